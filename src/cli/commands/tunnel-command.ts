import { Option, type Command } from 'commander';
import { DbSwitchError } from '../../errors.js';
import { LocalForwarder } from '../../providers/ssh/local-forwarder.js';
import { printer, type CliIo } from '../cli-io.js';
import { databaseUrl } from '../database-url.js';
import { openProvider } from '../open-provider.js';
import { untilSignal } from '../signals.js';

/** `dbswitch tunnel [--port N]`: a local port to the database through the bastion, until Ctrl-C. */
export function registerTunnelCommand(program: Command, io: CliIo): void {
  program
    .command('tunnel')
    .description('keep a port on 127.0.0.1 open to the database through the bastion (DB_TYPE=ssh) until Ctrl-C')
    .addOption(new Option('--port <port>', 'local port; default SSH_LOCAL_PORT, 0 for a free one').argParser(parsePort))
    .option('--show-password', 'print DATABASE_URL with the real password (masked by default)')
    .action(async (options: { port?: number; showPassword?: boolean }) => {
      const { config, provider, ssh } = openProvider(io);
      if (ssh === undefined) {
        throw new DbSwitchError('ECONFIG', `db.type (env DB_TYPE): tunnel needs ssh, not ${config.db.type}; with ${config.db.type}, connect to DB_HOST:DB_PORT directly`);
      }
      const print = printer(io.stdout);
      const forwarder = new LocalForwarder(ssh.tunnel, config.db, (event) => {
        if (event.kind === 'open') print(`client ${event.client} connected (${event.detail ?? ''})`);
        else if (event.kind === 'close') print(`client ${event.client} closed`);
        else printer(io.stderr)(`client ${event.client}: ${event.detail ?? 'failed'}`);
      });
      try {
        await ssh.tunnel.open();
        const port = await forwarder.listen(options.port ?? config.ssh.localPort);
        const hostKey = ssh.tunnel.report?.hostKey;
        const password = config.db.password === undefined ? undefined : options.showPassword === true ? config.db.password : '****';
        print(
          `tunnel open: 127.0.0.1:${port} -> ${config.db.host}:${config.db.port} via ${ssh.tunnel.address}` +
            (hostKey === undefined ? '' : ` (host key ${hostKey.fingerprint}, ${hostKey.verifiedBy})`),
          `DATABASE_URL=${databaseUrl({ user: config.db.user ?? '', password, host: '127.0.0.1', port, database: config.db.database })}`,
          'Press Ctrl-C to close.',
        );
        await untilSignal();
        print('closing the tunnel');
      } finally {
        await forwarder.close();
        await provider.close(0);
      }
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new DbSwitchError('ECONFIG', `--port must be a whole number from 0 to 65535; got "${value}"`);
  }
  return port;
}
