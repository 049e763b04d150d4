import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/child-script.js';
import { runCheck } from '../../src/diagnostics/run-check.js';
import { descendants, parentOf, signalTree } from '../../sandbox/process-tree.js';
import { startSshd } from '../../sandbox/ssh-sandbox.js';
import { knownHostsFile, sshEnv, useBastion } from '../support/bastion.js';
import { capturedLogger, eventually, openDb, serverConnections, useDatabase } from '../support/test-db.js';

const database = useDatabase('ssh');
const bastion = useBastion();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function openSsh(overrides: Record<string, string> = {}, options: Parameters<typeof openDb>[2] = {}): ReturnType<typeof openDb> {
  const env = sshEnv(bastion.current, bastion.dir, database, overrides);
  return openDb(database, env, options);
}

async function failure(overrides: Record<string, string>): Promise<Error & { code?: string }> {
  const db = await openSsh(overrides);
  return db.withSession((s) => s.query('SELECT 1')).then(
    () => {
      throw new Error('expected the connection to be refused');
    },
    (err: unknown) => err as Error & { code?: string },
  );
}

function sshKeygen(...args: string[]): void {
  execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'ignore' });
}

describe('DB_TYPE=ssh through a real OpenSSH bastion', () => {
  it('runs queries through the tunnel, and check reports both hops', async () => {
    const db = await openSsh();
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT ? AS x, DATABASE() AS db', [7]));
    expect(row).toEqual({ x: 7, db: database });
    const report = await runCheck(db);
    expect(report.transport.kind).toBe('tcp');
    expect(report.route[0]?.name).toBe('ssh bastion');
    expect(report.route[0]?.detail).toContain(bastion.current.hostFingerprint);
    expect(report.route[0]?.detail).toContain('known_hosts');
    expect(report.route[0]?.detail).toContain('forwarding allowed');
  });

  it('carries 50 concurrent sessions over one SSH connection', async () => {
    const before = await bastion.current.acceptedLogins();
    const db = await openSsh({ DB_POOL_MAX: '10' });
    const ids = await Promise.all(
      Array.from({ length: 50 }, () => db.withSession(async (s) => (await s.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id, SLEEP(0.01)'))[0][0]?.['id'] as number)),
    );
    expect(new Set(ids).size).toBeLessThanOrEqual(10);
    expect(await bastion.current.acceptedLogins()).toBe(before + 1);
    expect(await bastion.current.openConnections()).toBe(1);
  });

  describe('host keys', () => {
    it('refuses an unknown host, showing the fingerprint and how to trust it', async () => {
      const err = await failure({ SSH_KNOWN_HOSTS: knownHostsFile(bastion.dir) });
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain(bastion.current.hostFingerprint);
      expect(err.message).toContain('SSH_HOST_KEY_FINGERPRINT');
      expect(err.message).toContain('accept-new');
    });

    it('refuses a changed host key', async () => {
      const other = join(bastion.dir, 'other_host_key');
      sshKeygen('-t', 'ed25519', '-N', '', '-f', other);
      const otherKey = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      const err = await failure({ SSH_KNOWN_HOSTS: knownHostsFile(bastion.dir, `[127.0.0.1]:${bastion.current.port} ${otherKey}`) });
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain('HOST KEY CHANGED');
      expect(err.message).toContain(bastion.current.hostFingerprint);
    });

    it('accept-new records a new host, then refuses a change', async () => {
      const path = knownHostsFile(bastion.dir);
      const db = await openSsh({ SSH_KNOWN_HOSTS: path, SSH_STRICT_HOST_KEY_CHECKING: 'accept-new' });
      await db.withSession((s) => s.query('SELECT 1'));
      expect(readFileSync(path, 'utf8')).toContain(bastion.current.knownHostsLine);
      await db.close();

      // the same name now answers with another key
      const impostor = await startSshd();
      try {
        const recorded = readFileSync(path, 'utf8').replace(`[127.0.0.1]:${bastion.current.port}`, `[127.0.0.1]:${impostor.port}`);
        const pretend = knownHostsFile(bastion.dir, recorded.trim());
        const env = sshEnv(impostor, bastion.dir, database, { SSH_KNOWN_HOSTS: pretend, SSH_STRICT_HOST_KEY_CHECKING: 'accept-new' });
        const impostorDb = await openDb(database, env);
        await expect(impostorDb.withSession((s) => s.query('SELECT 1'))).rejects.toMatchObject({
          code: 'EHOSTKEY',
          message: expect.stringContaining('HOST KEY CHANGED') as unknown,
        });
      } finally {
        await impostor.destroy();
      }
    });

    it('accepts a pinned fingerprint and refuses a wrong pin', async () => {
      const empty = knownHostsFile(bastion.dir);
      const pinned = await openSsh({ SSH_KNOWN_HOSTS: empty, SSH_HOST_KEY_FINGERPRINT: bastion.current.hostFingerprint });
      await pinned.withSession((s) => s.query('SELECT 1'));
      const err = await failure({ SSH_KNOWN_HOSTS: empty, SSH_HOST_KEY_FINGERPRINT: `SHA256:${'A'.repeat(43)}` });
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain('not the pinned');
    });

    it('matches a hashed known_hosts entry, as ssh-keygen -H writes it', async () => {
      const path = knownHostsFile(bastion.dir, bastion.current.knownHostsLine);
      sshKeygen('-H', '-f', path);
      expect(readFileSync(path, 'utf8')).toMatch(/^\|1\|/);
      const db = await openSsh({ SSH_KNOWN_HOSTS: path });
      await db.withSession((s) => s.query('SELECT 1'));
    });

    it('with strict checking off, connects but warns at every connect', async () => {
      const { logger, lines } = capturedLogger('warn');
      const db = await openSsh({ SSH_KNOWN_HOSTS: knownHostsFile(bastion.dir), SSH_STRICT_HOST_KEY_CHECKING: 'no', DB_LOG_LEVEL: 'warn' }, { logger });
      await db.withSession((s) => s.query('SELECT 1'));
      expect(lines.join('\n')).toContain('SSH HOST KEY NOT VERIFIED');
    });
  });

  describe('authentication', () => {
    it('refuses a key the bastion does not know, with a clear error', async () => {
      const stranger = join(bastion.dir, 'stranger_key');
      sshKeygen('-t', 'ed25519', '-N', '', '-f', stranger);
      const err = await failure({ SSH_PRIVATE_KEY_PATH: stranger });
      expect(err.code).toBe('EAUTH');
      expect(err.message).toContain(`refused user '${bastion.current.user}'`);
      expect(err.message).toContain('SSH_PRIVATE_KEY_PATH');
    });

    it('logs in with an inline key', async () => {
      const db = await openSsh({ SSH_PRIVATE_KEY_PATH: '', SSH_PRIVATE_KEY: readFileSync(bastion.current.clientKeyPath, 'utf8') });
      await db.withSession((s) => s.query('SELECT 1'));
    });

    it('logs in with a passphrase-protected key, and says so when the passphrase is missing', async () => {
      const locked = join(bastion.dir, 'locked_key');
      execFileSync('cp', [bastion.current.clientKeyPath, locked]);
      sshKeygen('-p', '-N', 'correct horse', '-P', '', '-f', locked);
      const db = await openSsh({ SSH_PRIVATE_KEY_PATH: locked, SSH_PASSPHRASE: 'correct horse' });
      await db.withSession((s) => s.query('SELECT 1'));
      const err = await failure({ SSH_PRIVATE_KEY_PATH: locked });
      expect(err.code).toBe('ECONFIG');
      expect(err.message).toContain('SSH_PASSPHRASE');
      expect(err.message).not.toContain('correct horse');
      // Regression: a wrong passphrase was blamed on the key path.
      const wrong = await failure({ SSH_PRIVATE_KEY_PATH: locked, SSH_PASSPHRASE: 'battery staple' });
      expect(wrong.code).toBe('ECONFIG');
      expect(wrong.message).toMatch(/^ssh\.passphrase \(SSH_PASSPHRASE\): it does not decrypt the private key/);
      expect(wrong.message).not.toContain('battery staple');
    });

    it('logs in through the SSH agent', async () => {
      const socket = join(bastion.dir, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
      try {
        expect(await eventually(async () => Promise.resolve(existsSafe(socket)))).toBe(true);
        execFileSync('ssh-add', [bastion.current.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
        const db = await openSsh({ SSH_PRIVATE_KEY_PATH: '', SSH_AUTH_SOCK: socket });
        await db.withSession((s) => s.query('SELECT 1'));
      } finally {
        agent.kill();
      }
    });
  });

  describe('forwarding refusals', () => {
    it('says what the bastion refused when forwarding is prohibited', async () => {
      const strict = await startSshd({ allowTcpForwarding: false });
      try {
        const db = await openDb(database, sshEnv(strict, bastion.dir, database));
        const err = (await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e)) as Error & { code?: string };
        expect(err.code).toBe('ETUNNEL');
        expect(err.message).toContain('administratively prohibited');
      } finally {
        await strict.destroy();
      }
    });

    it('says the bastion could not reach the database', async () => {
      const err = await failure({ DB_PORT: '1' });
      expect(err.code).toBe('ETUNNEL');
      expect(err.message).toContain('could not connect to 127.0.0.1:1');
      expect(err.message).toContain('as the bastion sees them');
    });
  });

  describe('lifecycle', () => {
    it('closes pooled connections and the SSH connection after the linger, and reopens on demand', async () => {
      const db = await openSsh({ DB_LINGER_MS: '200' });
      await db.withSession((s) => s.query('SELECT 1'));
      expect(await bastion.current.openConnections()).toBe(1);
      expect(await eventually(async () => (await bastion.current.openConnections()) === 0, 3000)).toBe(true);
      expect(await eventually(async () => (await serverConnections(database)).length === 0, 3000)).toBe(true);
      await db.withSession((s) => s.query('SELECT 1'));
      expect(await bastion.current.openConnections()).toBe(1);
    });

    it('fails statements in flight with ETUNNEL when the bastion dies, and reconnects once it is back', async () => {
      const db = await openSsh({ DB_POOL_MAX: '4' });
      await db.withSession((s) => s.query('SELECT 1'));
      const inFlight = Array.from({ length: 4 }, () =>
        db.withSession((s) => s.query('SELECT SLEEP(2)')).then(
          () => 'completed',
          (err: unknown) => (err as { code?: string }).code,
        ),
      );
      await sleep(200);
      await bastion.current.kill();
      expect(await Promise.all(inFlight)).toEqual(['ETUNNEL', 'ETUNNEL', 'ETUNNEL', 'ETUNNEL']);
      await bastion.current.start();
      const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT 1 AS ok'));
      expect(row?.['ok']).toBe(1);
    });

    it('notices a bastion that stops answering through the keepalive', async () => {
      const db = await openSsh({ SSH_KEEPALIVE_INTERVAL_MS: '100', DB_POOL_MAX: '1' });
      await db.withSession((s) => s.query('SELECT 1'));
      const connection = descendants(bastion.current.pid).filter((pid) => parentOf(pid) === bastion.current.pid);
      expect(connection.length).toBe(1);
      signalTree(connection[0] ?? 0, 'SIGSTOP');
      try {
        const started = Date.now();
        const err = await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ETUNNEL', message: expect.stringContaining('keepalive') as unknown });
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        signalTree(connection[0] ?? 0, 'SIGKILL');
      }
      const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT 1 AS ok'));
      expect(row?.['ok']).toBe(1);
    });

    it('lets a script exit by itself right after its last session', async () => {
      const run = await runScript("for await (const s of db.getDb()) { await s.query('SELECT 1'); }\nprocess.stdout.write('released\\n');", sshEnv(bastion.current, bastion.dir, database));
      expect(run.code).toBe(0);
      expect(run.markedAt).toBeGreaterThan(0);
      expect(Date.now() - run.markedAt).toBeLessThan(2000);
    });

    it('finishes a script whose last line is await db.close()', async () => {
      const run = await runScript("await db.withSession((s) => s.query('SELECT 1'));\nawait db.close();\nprocess.stdout.write('closed\\n');", sshEnv(bastion.current, bastion.dir, database), 'closed');
      expect(run).toMatchObject({ code: 0, stdout: 'closed\n' });
      expect(await eventually(async () => (await bastion.current.openConnections()) === 0)).toBe(true);
    });
  });
});

function existsSafe(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch (err) {
    // a socket cannot be read as a file, but it exists
    return (err as { code?: string }).code !== 'ENOENT';
  }
}
