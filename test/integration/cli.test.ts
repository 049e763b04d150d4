import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliCwd as cwd, runCli as dbswitch } from '../support/cli.js';
import { basicEnv, sandbox } from '../support/test-db.js';

describe('dbswitch CLI', () => {
  it('config shows each value with its source and masks the password', async () => {
    writeFileSync(join(cwd, '.env'), 'DB_NAME=from-dotenv\n');
    try {
      const run = await dbswitch(['config'], { DB_USER: 'app', DB_PASSWORD: 'hunter2-cli', DB_PORT: '3310' });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/db\.port\s+3310\s+env DB_PORT/);
      expect(run.stdout).toMatch(/db\.password\s+\*{8}\s+env DB_PASSWORD/);
      expect(run.stdout).toMatch(/db\.database\s+from-dotenv\s+DB_NAME in \S*\.env/);
      expect(run.stdout).toMatch(/pool\.max\s+10\s+default/);
      expect(run.stdout + run.stderr).not.toContain('hunter2-cli');
      const json = await dbswitch(['config', '--json'], { DB_USER: 'app', DB_PASSWORD: 'hunter2-cli' });
      const { rows } = JSON.parse(json.stdout) as { rows: { key: string; value: unknown; source: unknown }[] };
      expect(rows.find((row) => row.key === 'db.password')).toMatchObject({ value: '********', source: { kind: 'env', name: 'DB_PASSWORD' } });
    } finally {
      rmSync(join(cwd, '.env'));
    }
  });

  it('check reports TCP as 127.0.0.1:port, as the server sees it', async () => {
    const run = await dbswitch(['check', '--json'], basicEnv('app'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { transport: { kind: string; seenAs: string }; user: string; serverVersion: string; tls: unknown };
    expect(report.transport.kind).toBe('tcp');
    expect(report.transport.seenAs).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(report.user).toBe('app@%');
    expect(report.serverVersion).toMatch(/MariaDB/);
    expect(report.tls).toBeNull();
  });

  it('check reports the unix socket as localhost', async () => {
    const run = await dbswitch(['check'], basicEnv('app', { DB_SOCKET: sandbox().socketPath }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('unix socket, the server sees localhost');
    expect(run.stdout).toContain('user       app@localhost');
  });

  it('check shows the TLS version, cipher and the CA that verified the server', async () => {
    const run = await dbswitch(['check'], basicEnv('app', { DB_HOST: 'localhost', DB_TLS: 'verify-full', DB_TLS_CA: sandbox().caPath }));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/tls\s+TLSv1\.[23] \S+, certificate from dbswitch sandbox CA, verified/);
  });

  it('check fails with exit code 1 and the error, never the password', async () => {
    const run = await dbswitch(['check'], basicEnv('app', { DB_PASSWORD: 'wrong-password-xyz' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('EAUTH');
    expect(run.stderr).toContain("refused user 'app'");
    expect(run.stderr).toContain('DB_PASSWORD');
    expect(run.stdout + run.stderr).not.toContain('wrong-password-xyz');
  });

  it('check fails clearly when nothing listens', async () => {
    const run = await dbswitch(['check'], basicEnv('app', { DB_PORT: '1' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ECONNECT cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED.*DB_HOST/);
  });
});
