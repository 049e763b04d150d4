/**
 * The one private Node API dbswitch uses, kept here. Checked against Node 20.19 and 22.
 */
import { isIP } from 'node:net';

/**
 * Makes Node verify a TLS certificate against `host` during the handshake, before any credential
 * is sent. mysql2 gives Node no server name for an IP address (SNI forbids one), and Node then
 * checks the name of the socket's DNS lookup (`socket._host`), of which a socket opened by IP has
 * none, and falls back to `localhost`: a certificate for localhost would pass for 127.0.0.1, or
 * for any address. An SSH channel has no `_host` at all.
 */
export function bindTlsHostName(stream: object, host: string): void {
  const socket = stream as { _host?: string | null };
  if (isIP(host) !== 0 || socket._host == null) socket._host = host;
}
