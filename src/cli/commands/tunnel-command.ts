import { Option, type Command } from 'commander';
import { settingLabel } from '../../config/setting-label.js';
import { DbSwitchError } from '../../errors.js';
import { printer, type CliIo } from '../cli-io.js';
import { openDb } from '../open-db.js';
import { databaseUrl } from '../database-url.js';
import { untilSignal } from '../signals.js';

/** `dbswitch tunnel [--port N]`: a local port to the database through the bastion, until Ctrl-C. */
export function registerTunnelCommand(program: Command, io: CliIo): void {
  program
    .command('tunnel')
    .description('keep a port on 127.0.0.1 open to the database through the bastion (DB_TYPE=ssh) until Ctrl-C')
    .addOption(new Option('--port <port>', 'local port; default SSH_LOCAL_PORT, 0 for a free one').argParser(parsePort))
    .option('--show-password', 'print DATABASE_URL with the real password (masked by default)')
    .action(async (options: { port?: number; showPassword?: boolean }) => {
      // Listening first: a Ctrl-C from the moment the port is announced closes it cleanly.
      const signal = untilSignal();
      const print = printer(io.stdout);
      const db = await openDb(io);
      try {
        const endpoint = await db.toolEndpoint({
          localPort: options.port ?? db.config.ssh.localPort,
          onClient: (event) => {
            if (event.kind === 'open') print(`client ${event.client} connected (${event.detail ?? ''})`);
            else if (event.kind === 'close') print(`client ${event.client} closed`);
            else printer(io.stderr)(`client ${event.client}: ${event.detail ?? 'failed'}`);
          },
        });
        try {
          if (!endpoint.forwarded) {
            throw new DbSwitchError(
              'EUSAGE',
              `${settingLabel('db.type')} = ${db.config.db.type} reaches the database directly; connect to ${endpoint.description} (dbswitch exec passes it to a command)`,
            );
          }
          const password = endpoint.password === undefined ? undefined : options.showPassword === true ? endpoint.password : '****';
          print(
            `tunnel open: 127.0.0.1:${endpoint.port} -> ${endpoint.description}`,
            `DATABASE_URL=${databaseUrl({ user: endpoint.user, password, host: endpoint.host, port: endpoint.port, database: endpoint.database })}`,
            'Press Ctrl-C to close.',
          );
          await signal.received;
          print('closing the tunnel');
        } finally {
          await endpoint.close();
        }
      } finally {
        signal.stop();
        await db.close();
      }
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new DbSwitchError('EUSAGE', `--port must be a whole number from 0 to 65535; got "${value}"`);
  }
  return port;
}
