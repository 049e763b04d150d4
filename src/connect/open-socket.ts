import { connect, type Socket } from 'node:net';

/**
 * A socket to the database: the unix socket when one is named, TCP otherwise. TCP is used for
 * every host name, `localhost` included, which is where the MySQL C client would silently pick
 * the unix socket instead (the trap in source 000).
 */
export function openSocket(target: { host: string; port: number; socketPath: string | undefined }): Socket {
  if (target.socketPath !== undefined) return connect({ path: target.socketPath });
  const socket = connect({ host: target.host, port: target.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 });
  return socket;
}
