import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { settingLabel } from '../../config/setting-label.js';
import type { ToolClientEvent } from '../../db-provider.js';
import { DbSwitchError } from '../../errors.js';
import type { SshTunnel } from './ssh-tunnel.js';

/**
 * A port on 127.0.0.1 (never 0.0.0.0) whose connections are forwarded through the SSH tunnel to
 * the database: for tools that cannot take a stream (Workbench, migration tools, the mariadb
 * client). The library itself never opens one.
 */
export class LocalForwarder {
  readonly #tunnel: SshTunnel;
  readonly #target: { host: string; port: number };
  readonly #onEvent: (event: ToolClientEvent) => void;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  constructor(tunnel: SshTunnel, target: { host: string; port: number }, onEvent: (event: ToolClientEvent) => void = () => undefined) {
    this.#tunnel = tunnel;
    this.#target = target;
    this.#onEvent = onEvent;
  }

  /** Listens on 127.0.0.1:`port` (0: a free one) and returns the port. */
  async listen(port: number): Promise<number> {
    const server = createServer((socket) => {
      void this.#forward(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    }).catch(async (err: unknown) => {
      if ((err as { code?: string }).code !== 'EADDRINUSE') {
        throw new DbSwitchError(
          'ETUNNEL',
          `cannot listen on 127.0.0.1:${port}: ${err instanceof Error ? err.message : String(err)}; choose another with --port or ${settingLabel('ssh.localPort')}, or 0 for a free one`,
          { cause: err },
        );
      }
      const holder = await portHolder(port);
      throw new DbSwitchError(
        'ETUNNEL',
        `127.0.0.1:${port} is already in use${holder === undefined ? '' : ` by ${holder}`}; choose another with --port or ${settingLabel('ssh.localPort')}, or 0 for a free one`,
        { cause: err },
      );
    });
    this.#server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening and closes every forwarded connection. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  async #forward(socket: Socket): Promise<void> {
    const client = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.#sockets.add(socket);
    this.#tunnel.hold();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#sockets.delete(socket);
      this.#tunnel.letGo();
      this.#onEvent({ kind: 'close', client });
    };
    socket.once('close', release);
    socket.on('error', () => socket.destroy());
    try {
      const { channel } = await this.#tunnel.forward(this.#target.host, this.#target.port);
      if (socket.destroyed) {
        channel.destroy();
        return;
      }
      this.#onEvent({ kind: 'open', client, detail: `${this.#target.host}:${this.#target.port} via ${this.#tunnel.address}` });
      socket.pipe(channel).pipe(socket);
      channel.once('close', () => socket.destroy());
      socket.once('close', () => channel.destroy());
    } catch (err) {
      this.#onEvent({ kind: 'error', client, detail: err instanceof Error ? err.message : String(err) });
      socket.destroy();
    }
  }
}

/** "process (pid N)" listening on the port, if `ss` can tell. */
function portHolder(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ss', ['-Hltnp', `sport = :${port}`], { timeout: 2000 }, (err, stdout) => {
      const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
      resolve(err === null && match !== null ? `${match[1] ?? '?'} (pid ${match[2] ?? '?'})` : undefined);
    });
  });
}
