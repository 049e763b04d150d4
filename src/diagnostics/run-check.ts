import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import type { Db } from '../db/db.js';
import type { AuthReport, RouteHop } from '../db-provider.js';
import { streamOf, type RowDataPacket } from '../driver/mysql2.js';

/** What `dbswitch check` found out about the way to the database. */
export interface CheckReport {
  readonly type: string;
  readonly route: readonly RouteHop[];
  /** The auth method and, for IAM, what the token was signed for and until when (never the token). */
  readonly auth: AuthReport;
  readonly serverVersion: string;
  /** The account the server matched, `user@host` as CURRENT_USER() returns it. */
  readonly user: string;
  /** How the server sees this connection, from information_schema.processlist. */
  readonly transport: { readonly kind: 'tcp' | 'socket'; readonly seenAs: string };
  /** null when the connection is not encrypted. */
  readonly tls: { readonly version: string; readonly cipher: string; readonly issuer: string | undefined; readonly verified: boolean } | null;
  readonly timings: { readonly connectMs: number; readonly queryMs: number };
}

interface ServerView extends RowDataPacket {
  serverVersion: string;
  user: string;
  seenAs: string | null;
}

interface StatusRow extends RowDataPacket {
  Variable_name: string;
  Value: string;
}

/**
 * Connects through the configured provider and reports each fact a user would check by hand:
 * the server, the account, the transport as the server sees it (TCP `host:port` or the unix
 * socket `localhost`, the test of source 000), TLS as negotiated, and timings.
 */
export async function runCheck(db: Db): Promise<CheckReport> {
  return db.withSession(async (session) => {
    const started = performance.now();
    const connection = await session.connect();
    const connectMs = performance.now() - started;

    const queryStarted = performance.now();
    const [[view]] = await session.query<ServerView[]>(
      'SELECT VERSION() AS serverVersion, CURRENT_USER() AS user, ' +
        '(SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()) AS seenAs',
    );
    const queryMs = performance.now() - queryStarted;
    const [status] = await session.query<StatusRow[]>("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
    const statusValue = (name: string): string => status.find((row) => row.Variable_name === name)?.Value ?? '';

    const seenAs = view?.seenAs ?? '';
    const stream = streamOf(connection);
    const version = statusValue('Ssl_version');
    let tls: CheckReport['tls'] = null;
    if (version !== '') {
      const secure = stream instanceof TLSSocket ? stream : undefined;
      const issuerName = secure?.getPeerCertificate().issuer.CN;
      const issuer = Array.isArray(issuerName) ? issuerName.join(', ') : issuerName;
      tls = { version, cipher: statusValue('Ssl_cipher'), issuer, verified: secure?.authorized === true };
    }
    return {
      type: db.config.db.type,
      route: db.route(),
      auth: db.auth(),
      serverVersion: view?.serverVersion ?? '',
      user: view?.user ?? '',
      transport: { kind: /:\d+$/.test(seenAs) ? 'tcp' : 'socket', seenAs },
      tls,
      timings: { connectMs: round(connectMs), queryMs: round(queryMs) },
    };
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
