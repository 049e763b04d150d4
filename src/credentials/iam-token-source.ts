import type { AwsServices } from '../aws/aws-services.js';

/** What `dbswitch check` may say about the token in use: never the token itself. */
export interface TokenReport {
  readonly signedFor: string;
  readonly user: string;
  readonly expiresAt: Date;
}

interface CachedToken {
  readonly token: string;
  readonly reuseUntil: number;
  readonly report: TokenReport;
}

/** Longest margin kept before a token's (or its credentials') expiry. */
const MAX_MARGIN_MS = 60_000;

/**
 * RDS IAM tokens for one endpoint and user. A token is reused while it is valid, less a margin,
 * and never past the expiry of the credentials that signed it (a presigned token dies with them);
 * concurrent new connections share one signing.
 */
export class IamTokenSource {
  readonly #aws: AwsServices;
  readonly #request: { hostname: string; port: number; username: string; region: string };
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #signing: Promise<CachedToken> | undefined;
  #signings = 0;

  constructor(aws: AwsServices, request: { hostname: string; port: number; username: string; region: string }, now: () => number = Date.now) {
    this.#aws = aws;
    this.#request = request;
    this.#now = now;
  }

  /** How many tokens have been signed. */
  get signings(): number {
    return this.#signings;
  }

  /** The token in use, for reports. */
  get report(): TokenReport | undefined {
    return this.#cached?.report;
  }

  /** Whether this source signs for that endpoint and user. */
  matches(hostname: string, port: number, username: string): boolean {
    return this.#request.hostname === hostname && this.#request.port === port && this.#request.username === username;
  }

  /** A token valid for at least the margin. */
  async token(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.reuseUntil) return cached.token;
    this.#signing ??= this.#sign().finally(() => {
      this.#signing = undefined;
    });
    return (await this.#signing).token;
  }

  async #sign(): Promise<CachedToken> {
    const credentials = await this.#aws.credentials();
    const token = await this.#aws.signRdsToken({ ...this.#request, credentials });
    this.#signings++;
    const now = this.#now();
    const expiresAt = Math.min(tokenExpiry(token) ?? now + 15 * 60_000, credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY);
    const margin = Math.min(MAX_MARGIN_MS, Math.max(0, expiresAt - now) / 10);
    const cached: CachedToken = {
      token,
      reuseUntil: expiresAt - margin,
      report: { signedFor: `${this.#request.hostname}:${this.#request.port}`, user: this.#request.username, expiresAt: new Date(expiresAt) },
    };
    this.#cached = cached;
    return cached;
  }
}

/** When a presigned token stops being valid: X-Amz-Date plus X-Amz-Expires. */
export function tokenExpiry(token: string): number | undefined {
  const query = new URLSearchParams(token.split('?')[1] ?? '');
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const seconds = Number(query.get('X-Amz-Expires'));
  if (date === null || !Number.isFinite(seconds)) return undefined;
  const [, y, mo, d, h, mi, s] = date;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + seconds * 1000;
}
