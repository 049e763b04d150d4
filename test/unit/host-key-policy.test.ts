import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { DbSwitchConfig } from '../../src/config/config.js';
import { DbSwitchError } from '../../src/errors.js';
import { HostKeyPolicy } from '../../src/providers/ssh/host-key-policy.js';

const dir = mkdtempSync(join(tmpdir(), 'dbswitch-host-key-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** A host key made by ssh-keygen, with the fingerprint `ssh-keygen -lf` prints for it. */
interface HostKey {
  readonly type: string;
  readonly base64: string;
  readonly blob: Buffer;
  readonly fingerprint: string;
}

let files = 0;
function sshKeygen(type: 'ed25519' | 'rsa' | 'ecdsa', bits?: number): HostKey {
  const path = join(dir, `key_${++files}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits === undefined ? [] : ['-b', String(bits)]), '-N', '', '-C', 'test', '-f', path]);
  const [keyType = '', base64 = ''] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  return { type: keyType, base64, blob: Buffer.from(base64, 'base64'), fingerprint };
}

const ed25519 = sshKeygen('ed25519');
const otherEd25519 = sshKeygen('ed25519');
const rsa = sshKeygen('rsa');
const ecdsa384 = sshKeygen('ecdsa', 384);

const HOST = 'bastion.example.com';
const PORT = 2222;
const TOKEN = `[${HOST}]:${PORT}`;
const SECRET_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----';
const PASSPHRASE = 'correct horse battery staple';

const entry = (key: HostKey, hosts = TOKEN, marker = ''): string => `${marker}${hosts} ${key.type} ${key.base64}`;

/** A known_hosts file with these lines, in a fresh folder. */
function knownHosts(...lines: string[]): string {
  const folder = join(dir, `kh_${++files}`);
  mkdirSync(folder);
  const path = join(folder, 'known_hosts');
  writeFileSync(path, lines.map((text) => `${text}\n`).join(''));
  return path;
}

function sshConfig(overrides: Partial<DbSwitchConfig['ssh']>): DbSwitchConfig['ssh'] {
  return {
    host: HOST,
    port: PORT,
    user: 'ec2-user',
    privateKeyPath: undefined,
    privateKey: SECRET_KEY,
    passphrase: PASSPHRASE,
    agentSocket: undefined,
    knownHostsPath: join(dir, 'absent', 'known_hosts'),
    hostKeyFingerprint: undefined,
    strictHostKeyChecking: 'yes',
    localPort: 0,
    keepaliveIntervalMs: 15_000,
    ec2InstanceId: undefined,
    ...overrides,
  };
}

/** A pino logger whose lines the test can read, parsed. */
function capturedLogger(level = 'trace'): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

function policy(overrides: Partial<DbSwitchConfig['ssh']>, logger = capturedLogger().logger): HostKeyPolicy {
  return new HostKeyPolicy(sshConfig(overrides), logger);
}

/** The error `check` throws; fails the test when it does not throw. */
function refusal(subject: HostKeyPolicy, key: HostKey): DbSwitchError {
  try {
    subject.check(key.blob);
  } catch (err) {
    if (err instanceof DbSwitchError) return err;
    throw err;
  }
  throw new Error('expected the host key to be refused');
}

const ERROR = 50;

describe('HostKeyPolicy.check', () => {
  describe('a host known under another key type is not new (issue 7, item 5)', () => {
    it.each(['accept-new', 'yes'] as const)(
      '%s: refuses an impostor offering only an RSA key for a host on record with ed25519, and records nothing',
      (mode) => {
        const path = knownHosts(entry(ed25519));
        const before = readFileSync(path, 'utf8');
        const err = refusal(policy({ knownHostsPath: path, strictHostKeyChecking: mode }), rsa);
        expect(err.code).toBe('EHOSTKEY');
        expect(err.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
        expect(err.message).toContain(`offered ssh-rsa key ${rsa.fingerprint}`);
        expect(err.message).toContain(`ssh-ed25519 ${ed25519.fingerprint} (line 1)`);
        expect(err.message).toContain(`ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path}`);
        expect(err.message).toContain(`ssh-keygen -R '${TOKEN}' -f '${path}'`);
        if (mode === 'accept-new') expect(err.message).toContain('accept-new does not apply: a host listed with a key of any type is not new');
        expect(readFileSync(path, 'utf8')).toBe(before);
      },
    );

    it('accepts each of a host’s keys of several types', () => {
      const path = knownHosts(entry(ed25519), entry(rsa));
      const subject = policy({ knownHostsPath: path });
      expect(subject.check(rsa.blob)).toEqual({ fingerprint: rsa.fingerprint, keyType: 'ssh-rsa', verifiedBy: `known_hosts ${path}:2` });
      expect(subject.check(ed25519.blob)).toEqual({ fingerprint: ed25519.fingerprint, keyType: 'ssh-ed25519', verifiedBy: `known_hosts ${path}:1` });
    });

    it('a key of the same type that differs is a changed key too', () => {
      const err = refusal(policy({ knownHostsPath: knownHosts(entry(ed25519)), strictHostKeyChecking: 'accept-new' }), otherEd25519);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain('HOST KEY CHANGED');
    });
  });

  describe('accept-new', () => {
    it('records a host with nothing on record, where OpenSSH finds it, and then knows it', () => {
      const path = join(dir, `fresh_${++files}`, 'nested', 'known_hosts');
      const { logger, lines } = capturedLogger('info');
      const subject = policy({ knownHostsPath: path, strictHostKeyChecking: 'accept-new' }, logger);
      expect(subject.check(ed25519.blob)).toMatchObject({ fingerprint: ed25519.fingerprint, verifiedBy: `accepted as new and recorded in ${path}` });
      expect(readFileSync(path, 'utf8')).toBe(`${entry(ed25519)}\n`);
      expect(execFileSync('ssh-keygen', ['-F', TOKEN, '-f', path], { encoding: 'utf8' })).toContain(ed25519.base64);
      expect(lines.map((line) => line.msg).join('\n')).toContain(ed25519.fingerprint);
      expect(subject.check(ed25519.blob).verifiedBy).toBe(`known_hosts ${path}:1`);
      // and the first key recorded makes the host known: another type is now a change
      expect(refusal(subject, rsa).message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    });

    it('appends on a line of its own when the file lacks a final newline', () => {
      const path = knownHosts();
      writeFileSync(path, entry(rsa, 'elsewhere'));
      policy({ knownHostsPath: path, strictHostKeyChecking: 'accept-new' }).check(ed25519.blob);
      expect(readFileSync(path, 'utf8')).toBe(`${entry(rsa, 'elsewhere')}\n${entry(ed25519)}\n`);
    });

    it('does not take a host covered by @cert-authority for a new one', () => {
      const path = knownHosts(entry(ed25519, '[*.example.com]:2222', '@cert-authority '));
      const before = readFileSync(path, 'utf8');
      const err = refusal(policy({ knownHostsPath: path, strictHostKeyChecking: 'accept-new' }), rsa);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain('only through @cert-authority (line 1)');
      expect(err.message).toContain('does not negotiate host certificates');
      expect(err.message).toContain(`SSH_HOST_KEY_FINGERPRINT=${rsa.fingerprint}`);
      expect(readFileSync(path, 'utf8')).toBe(before);
    });
  });

  describe('yes', () => {
    it('refuses an unknown host, saying how to verify the key instead of trusting whatever answers', () => {
      const path = knownHosts(entry(ed25519, 'elsewhere'));
      const err = refusal(policy({ knownHostsPath: path }), ed25519);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain(`UNKNOWN HOST KEY: the bastion ${TOKEN} is not in ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path}`);
      expect(err.message).toContain(ed25519.fingerprint);
      expect(err.message).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
      expect(err.message).toContain('aws ec2 get-console-output --instance-id <instance-id>');
      expect(err.message).toContain(`SSH_HOST_KEY_FINGERPRINT=${ed25519.fingerprint}`);
      expect(err.message).toContain('SSH_STRICT_HOST_KEY_CHECKING=accept-new');
      expect(err.message).not.toContain('>>');
      expect(err.message).not.toMatch(/ssh-keyscan -/);
    });

    it('names the host key file of the offered type, and the EC2 instance when it is configured', () => {
      const err = refusal(policy({ ec2InstanceId: 'i-0123456789abcdef0' }), rsa);
      expect(err.message).toContain('ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub');
      expect(err.message).toContain('aws ec2 get-console-output --instance-id i-0123456789abcdef0');
      expect(refusal(policy({}), ecdsa384).message).toContain('/etc/ssh/ssh_host_ecdsa_key.pub');
    });

    it('refuses a revoked key, for any host the @revoked line names', () => {
      const path = knownHosts(entry(ed25519), entry(ed25519, '*', '@revoked '));
      const err = refusal(policy({ knownHostsPath: path }), ed25519);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain(`REVOKED HOST KEY: the bastion ${TOKEN} offered ssh-ed25519 key ${ed25519.fingerprint}`);
      expect(err.message).toContain(`ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path} marks @revoked (line 2)`);
    });
  });

  describe('no', () => {
    it('lets an unknown host in, logging at error level at every connect', () => {
      const { logger, lines } = capturedLogger('error');
      const subject = policy({ strictHostKeyChecking: 'no' }, logger);
      expect(subject.check(ed25519.blob).verifiedBy).toBe('NOT verified (SSH_STRICT_HOST_KEY_CHECKING=no)');
      subject.check(ed25519.blob);
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line.level).toBe(ERROR);
        expect(line.msg).toContain('SSH HOST KEY NOT VERIFIED');
        expect(line.msg).toContain(ed25519.fingerprint);
      }
    });

    it('still logs at error level when the key happens to match', () => {
      const path = knownHosts(entry(ed25519));
      const { logger, lines } = capturedLogger('error');
      expect(policy({ knownHostsPath: path, strictHostKeyChecking: 'no' }, logger).check(ed25519.blob).verifiedBy).toBe(`known_hosts ${path}:1`);
      expect(lines).toMatchObject([{ level: ERROR, msg: expect.stringContaining('SSH HOST KEY CHECKING IS OFF') as unknown }]);
    });

    it.each([
      ['a changed key', (): string => knownHosts(entry(ed25519)), otherEd25519, 'HOST KEY CHANGED'],
      ['another key type', (): string => knownHosts(entry(rsa)), ed25519, 'HOST KEY CHANGED'],
      ['a revoked key', (): string => knownHosts(entry(otherEd25519, '*', '@revoked ')), otherEd25519, 'REVOKED HOST KEY'],
    ])('refuses %s: OpenSSH would disable forwarding, which is all dbswitch does', (_name, file, offered, headline) => {
      const path = file();
      const err = refusal(policy({ knownHostsPath: path, strictHostKeyChecking: 'no' }), offered);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain(headline);
      expect(err.message).toContain('OpenSSH still connects but disables port forwarding');
      expect(err.message).toContain(`ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path}`);
    });
  });

  describe('a pinned fingerprint (SSH_HOST_KEY_FINGERPRINT)', () => {
    it('accepts the pinned key whatever known_hosts says, with or without base64 padding', () => {
      const path = knownHosts(entry(otherEd25519));
      expect(policy({ knownHostsPath: path, hostKeyFingerprint: ed25519.fingerprint }).check(ed25519.blob)).toEqual({
        fingerprint: ed25519.fingerprint,
        keyType: 'ssh-ed25519',
        verifiedBy: 'the pinned SSH_HOST_KEY_FINGERPRINT',
      });
      expect(policy({ hostKeyFingerprint: `${ed25519.fingerprint}=` }).check(ed25519.blob).fingerprint).toBe(ed25519.fingerprint);
    });

    it('refuses any other key, naming SSH_HOST_KEY_FINGERPRINT', () => {
      const path = knownHosts(entry(rsa));
      const err = refusal(policy({ knownHostsPath: path, hostKeyFingerprint: ed25519.fingerprint, strictHostKeyChecking: 'no' }), rsa);
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toContain(`offered ssh-rsa key ${rsa.fingerprint}, not the pinned ssh.hostKeyFingerprint (SSH_HOST_KEY_FINGERPRINT) ${ed25519.fingerprint}`);
      expect(err.message).toContain(`ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${path}`);
    });
  });

  it('every refusal names SSH_KNOWN_HOSTS and its path, says how to update after a rebuild, and holds no secret', () => {
    const unknown = policy({ knownHostsPath: knownHosts() });
    const changed = policy({ knownHostsPath: knownHosts(entry(ed25519)), strictHostKeyChecking: 'accept-new' });
    const revoked = policy({ knownHostsPath: knownHosts(entry(rsa, '*', '@revoked ')), strictHostKeyChecking: 'no' });
    const ca = policy({ knownHostsPath: knownHosts(entry(ed25519, TOKEN, '@cert-authority ')) });
    const pinned = policy({ hostKeyFingerprint: ed25519.fingerprint });
    const refusals = [refusal(unknown, rsa), refusal(changed, rsa), refusal(revoked, rsa), refusal(ca, rsa), refusal(pinned, rsa)];
    for (const err of refusals) {
      expect(err.code).toBe('EHOSTKEY');
      expect(err.message).toMatch(/ssh\.knownHostsPath \(SSH_KNOWN_HOSTS\) \//);
      expect(err.message).not.toContain('SECRET-KEY-MATERIAL');
      expect(err.message).not.toContain(PASSPHRASE);
    }
    for (const err of [refusal(changed, rsa), refusal(revoked, rsa)]) {
      expect(err.message).toContain(`ssh-keygen -R '${TOKEN}'`);
      expect(err.message).toContain('autoscaling');
    }
  });

  it('says ECONFIG, naming the setting, when known_hosts cannot be read', () => {
    const folder = knownHosts().replace(/known_hosts$/, '');
    expect(() => policy({ knownHostsPath: folder }).check(ed25519.blob)).toThrow(
      expect.objectContaining({ code: 'ECONFIG', message: expect.stringContaining(`cannot read ssh.knownHostsPath (SSH_KNOWN_HOSTS) ${folder}`) as unknown }),
    );
  });
});

describe('HostKeyPolicy.preferredHostKeyAlgorithms', () => {
  const ssh2Default = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as { DEFAULT_SERVER_HOST_KEY: string[] };

  it('is undefined when nothing is on record for the host, or a fingerprint is pinned', () => {
    expect(policy({}).preferredHostKeyAlgorithms()).toBeUndefined();
    expect(policy({ knownHostsPath: knownHosts(entry(rsa, 'elsewhere')) }).preferredHostKeyAlgorithms()).toBeUndefined();
    expect(policy({ knownHostsPath: knownHosts(entry(rsa)), hostKeyFingerprint: rsa.fingerprint }).preferredHostKeyAlgorithms()).toBeUndefined();
  });

  it('puts the algorithms of an ssh-rsa key on record first, and keeps ssh2’s default order otherwise', () => {
    const algorithms = policy({ knownHostsPath: knownHosts(entry(ed25519, 'elsewhere'), entry(rsa)) }).preferredHostKeyAlgorithms();
    expect(algorithms?.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algorithms?.slice(3)).toEqual(ssh2Default.DEFAULT_SERVER_HOST_KEY.filter((name) => !['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'].includes(name)));
  });

  it('offers exactly ssh2 1.17’s default algorithms, reordered', () => {
    const algorithms = policy({ knownHostsPath: knownHosts(entry(ed25519)) }).preferredHostKeyAlgorithms();
    expect(algorithms).toEqual(ssh2Default.DEFAULT_SERVER_HOST_KEY);
  });

  it('keeps ssh2’s order among several known types', () => {
    const algorithms = policy({ knownHostsPath: knownHosts(entry(rsa), entry(ecdsa384)) }).preferredHostKeyAlgorithms();
    expect(algorithms).toEqual([
      'ecdsa-sha2-nistp384',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp521',
    ]);
  });

  it('reads hashed entries, and ignores @revoked and @cert-authority lines', () => {
    const hashed = knownHosts(entry(rsa));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    expect(existsSync(`${hashed}.old`)).toBe(true);
    expect(policy({ knownHostsPath: hashed }).preferredHostKeyAlgorithms()?.[0]).toBe('rsa-sha2-512');
    const markers = knownHosts(entry(rsa, TOKEN, '@revoked '), entry(ecdsa384, TOKEN, '@cert-authority '));
    expect(policy({ knownHostsPath: markers }).preferredHostKeyAlgorithms()).toBeUndefined();
  });
});
