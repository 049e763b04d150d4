import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer: HTTP status and JSON body. */
export interface AwsJsonReply {
  readonly status: number;
  readonly body: object;
}

/** Answers one operation's JSON input. */
export type AwsJsonHandler = (input: Record<string, unknown>) => AwsJsonReply | Promise<AwsJsonReply>;

/** A running stand-in. */
export interface AwsJsonServer {
  readonly url: string;
  close(): Promise<void>;
}

/** An AWS error reply, as the SDK parses it into an exception named `type`. */
export function awsError(type: string, message: string): AwsJsonReply {
  return { status: 400, body: { __type: type, message } };
}

/**
 * A minimal AWS JSON 1.1 endpoint on 127.0.0.1 (the protocol of Secrets Manager and EC2 Instance
 * Connect): routes each POST by its X-Amz-Target header to a handler. Signatures are not checked.
 */
export async function serveAwsJson(handlers: Readonly<Record<string, AwsJsonHandler>>): Promise<AwsJsonServer> {
  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = request.headers['x-amz-target'];
    const handler = typeof target === 'string' ? handlers[target] : undefined;
    const reply =
      handler === undefined
        ? awsError('UnknownOperationException', `this stand-in serves ${Object.keys(handlers).join(', ')}`)
        : await handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
    response.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    response.end(JSON.stringify(reply.body));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
