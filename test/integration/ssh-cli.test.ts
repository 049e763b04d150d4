import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../sandbox/free-port.js';
import { runCli, startCli } from '../support/cli.js';
import { sshEnv, useBastion } from '../support/bastion.js';
import { basicEnv, eventually, sandbox, useDatabase } from '../support/test-db.js';

const database = useDatabase('sshcli');
const bastion = useBastion();

function mariadb(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('mariadb', args, { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('dbswitch tunnel', () => {
  it('keeps a port on 127.0.0.1 that the real mariadb client uses, reports clients, and closes on Ctrl-C', async () => {
    const port = await freePort();
    const env = sshEnv(bastion.current, bastion.dir, database);
    const tunnel = startCli(['tunnel', '--port', String(port)], env);
    const [, url] = await tunnel.waitFor(/DATABASE_URL=(\S+)/);
    expect(url).toBe(`mysql://${sandbox().user}:****@127.0.0.1:${port}/${database}`);
    expect(tunnel.output.stdout).toContain(bastion.current.hostFingerprint);

    const client = await mariadb(['-h', '127.0.0.1', '-P', String(port), '-u', sandbox().user, '-N', '-e', 'SELECT 6 * 7', database], {
      MYSQL_PWD: sandbox().password,
    });
    expect(client.stderr).toBe('');
    expect(client.stdout.trim()).toBe('42');
    await tunnel.waitFor(/client 127\.0\.0\.1:\d+ closed/);
    expect(tunnel.output.stdout).toMatch(/client 127\.0\.0\.1:\d+ connected/);

    tunnel.child.kill('SIGINT');
    const run = await tunnel.exited;
    expect(run.code).toBe(0);
    expect(await eventually(async () => (await bastion.current.openConnections()) === 0)).toBe(true);
  });

  it('prints the real password only when asked', async () => {
    const tunnel = startCli(['tunnel', '--show-password'], sshEnv(bastion.current, bastion.dir, database));
    const [, url] = await tunnel.waitFor(/DATABASE_URL=(\S+)/);
    expect(url).toContain(`:${sandbox().password}@127.0.0.1:`);
    tunnel.child.kill('SIGTERM');
    expect((await tunnel.exited).code).toBe(0);
  });

  it('says clearly when the port is taken, and by what', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const run = await runCli(['tunnel', '--port', String(port)], sshEnv(bastion.current, bastion.dir, database));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(run.stderr).toMatch(/by node \(pid \d+\)/);
      expect(run.stderr).toContain('SSH_LOCAL_PORT');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('needs DB_TYPE=ssh', async () => {
    const run = await runCli(['tunnel'], basicEnv(database));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('EUSAGE');
    expect(run.stderr).toContain('DB_TYPE');
  });
});

describe('dbswitch exec', () => {
  const query = (sql: string): string[] => ['sh', '-c', `mariadb -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -N -e "${sql}" "$DB_NAME"`];

  // Regression: exec set MYSQL_PWD but not MYSQL_HOST / MYSQL_TCP_PORT, so the client reached
  // the machine's own server on 3306. No host or port on this command line: exec's variables decide.
  it.each(['basic', 'ssh'] as const)('points the mariadb client at the configured server with no -h or -P (%s), and withholds SSH and AWS secrets', async (type) => {
    const secrets = { SSH_PRIVATE_KEY_PATH: '', SSH_PASSPHRASE: 'not-for-the-child', DB_SECRET_ID: '', AWS_SECRET_ACCESS_KEY: 'aws-not-for-the-child', AWS_SESSION_TOKEN: 'token-not-for-the-child' };
    const env = type === 'ssh' ? sshEnv(bastion.current, bastion.dir, database, { SSH_PASSPHRASE: secrets.SSH_PASSPHRASE }) : basicEnv(database);
    const run = await runCli(
      ['exec', '--', 'sh', '-c', 'mariadb -u "$DB_USER" -N -e "SELECT @@port"; env | grep -c -e not-for-the-child -e SSH_HOST= -e SSH_KNOWN_HOSTS= || true'],
      { ...env, AWS_SECRET_ACCESS_KEY: secrets.AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: secrets.AWS_SESSION_TOKEN },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [port, leaked] = run.stdout.trim().split('\n');
    expect(port).toBe(String(sandbox().port));
    expect(leaked).toBe('0');
  });

  it('runs the mariadb client through the tunnel with DB_* and DATABASE_URL set', async () => {
    const run = await runCli(['exec', '--', ...query('SELECT 42'), ], sshEnv(bastion.current, bastion.dir, database));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('42');
    const env = await runCli(['exec', '--', 'sh', '-c', 'echo "$DATABASE_URL|$DB_HOST|$DB_TYPE"'], sshEnv(bastion.current, bastion.dir, database));
    expect(env.stdout.trim()).toMatch(new RegExp(`^mysql://${sandbox().user}:${sandbox().password}@127\\.0\\.0\\.1:\\d+/${database}\\|127\\.0\\.0\\.1\\|basic$`));
    expect(await eventually(async () => (await bastion.current.openConnections()) === 0)).toBe(true);
  });

  it("exits with the command's status, also a failing one", async () => {
    const env = sshEnv(bastion.current, bastion.dir, database);
    expect((await runCli(['exec', '--', 'sh', '-c', 'exit 7'], env)).code).toBe(7);
    const failing = await runCli(['exec', '--', ...query('SELECT no_such_column')], env);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('Unknown column');
  });

  it('passes the settings straight through with DB_TYPE=basic', async () => {
    const run = await runCli(['exec', '--', ...query('SELECT CONNECTION_ID() > 0')], basicEnv(database));
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('1');
  });

  it('says when the command does not exist', async () => {
    const run = await runCli(['exec', '--', 'no-such-command-xyz'], basicEnv(database));
    // As a shell says it: the command's problem, not a dbswitch configuration error.
    expect(run.code).toBe(127);
    expect(run.stderr).toContain('no-such-command-xyz: command not found');
    expect(run.stderr).not.toContain('ECONFIG');
  });

  it('forwards SIGTERM to the command, then closes the tunnel', async () => {
    const running = startCli(['exec', '--', 'sh', '-c', 'echo ready; exec sleep 30'], sshEnv(bastion.current, bastion.dir, database));
    await running.waitFor(/ready/);
    expect(await bastion.current.openConnections()).toBe(1);
    const started = Date.now();
    running.child.kill('SIGTERM');
    const run = await running.exited;
    expect(run.code).toBe(143);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await eventually(async () => (await bastion.current.openConnections()) === 0)).toBe(true);
  });
});
