/** What a DATABASE_URL is made of. */
export interface UrlParts {
  readonly user: string;
  readonly password: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly socketPath?: string | undefined;
}

/**
 * `mysql://user:password@host:port/database`, every part URL-encoded (passwords and IAM tokens
 * hold characters that would break the URL otherwise); a unix socket goes in `?socket=`.
 */
export function databaseUrl(parts: UrlParts): string {
  const credentials = `${encodeURIComponent(parts.user)}${parts.password === undefined ? '' : `:${encodeURIComponent(parts.password)}`}`;
  const path = parts.database === undefined ? '' : encodeURIComponent(parts.database);
  if (parts.socketPath !== undefined) return `mysql://${credentials}@localhost/${path}?socket=${encodeURIComponent(parts.socketPath)}`;
  return `mysql://${credentials}@${parts.host}:${parts.port}/${path}`;
}
