import { readFileSync } from 'node:fs';
import { checkServerIdentity, TLSSocket } from 'node:tls';
import type { TlsMode } from '../config/modes.js';
import { streamOf, type Connection, type SslOptions } from '../driver/mysql2.js';
import { DbSwitchError } from '../errors.js';

export { bindTlsHostName } from '../driver/node-net.js';

/**
 * mysql2's `ssl` options for a TLS mode. One object per provider, made once: mysql2 caches the
 * secure context per options object, so every connection reuses the parsed CA bundle.
 *
 * - required: encrypted, the certificate is not checked (protects only against eavesdropping).
 * - verify-ca: the certificate must chain to the CA bundle (or the system CAs).
 * - verify-full: and it must be issued for the host name dbswitch connects to.
 *
 * `defaultCa` replaces the system CAs when no bundle is configured (aws: the RDS CA set); it is
 * only called then, since building it parses every certificate.
 */
export function sslOptionsFor(mode: TlsMode, caPath: string | undefined, defaultCa?: () => readonly string[]): SslOptions | undefined {
  if (mode === 'disabled') return undefined;
  const base = { minVersion: 'TLSv1.2' } as const;
  if (mode === 'required') return { ...base, rejectUnauthorized: false };
  return {
    ...base,
    ...(caPath !== undefined ? { ca: readFileSync(caPath, 'utf8') } : defaultCa !== undefined ? { ca: [...defaultCa()] } : {}),
    rejectUnauthorized: true,
    verifyIdentity: mode === 'verify-full',
  };
}

/**
 * Checks, after the handshake, that the server's certificate names `host` (a second line behind
 * bindTlsHostName, in case Node's fallback ever changes). Throws ETLS and the caller closes.
 */
export function assertServerIdentity(connection: Connection, host: string, mode: TlsMode): void {
  if (mode !== 'verify-full') return;
  const stream = streamOf(connection);
  if (!(stream instanceof TLSSocket)) {
    throw new DbSwitchError('ETLS', `the connection to ${host} is not encrypted although db.tls (DB_TLS) is verify-full`);
  }
  // A resumed session carries no certificate; it was verified for this host when first made
  // (mysql2 keeps sessions per host, and only verified ones).
  if (stream.isSessionReused()) return;
  const mismatch = checkServerIdentity(host, stream.getPeerCertificate());
  if (mismatch !== undefined) {
    throw new DbSwitchError('ETLS', `the server certificate is not valid for ${host} under db.tls (DB_TLS) = verify-full: ${mismatch.message}`, {
      cause: mismatch,
    });
  }
}
