import type { IncomingMessage } from 'node:http';

/** `GET /path` for a log line, without the query string (which may carry a token). */
export function describeRequest(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return `${req.method ?? 'GET'} ${query === -1 ? url : url.slice(0, query)}`;
}
