import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fingerprintOf,
  hostToken,
  judgeHostKey,
  keyTypeOf,
  knownKeyTypes,
  matchesHost,
  parseKnownHosts,
} from '../../src/providers/ssh/known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'dbswitch-known-hosts-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** A host key made by ssh-keygen: its .pub file, its blob as SSH sends it, and what `ssh-keygen -lf` prints. */
interface HostKey {
  readonly pubPath: string;
  readonly type: string;
  readonly blob: Buffer;
  /** `ssh-keygen -lf` output: `<bits> SHA256:... <comment> (<TYPE>)`. */
  readonly listed: string;
}

let keys = 0;
function sshKeygen(type: 'ed25519' | 'rsa' | 'ecdsa', bits?: number): HostKey {
  const path = join(dir, `key_${++keys}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits === undefined ? [] : ['-b', String(bits)]), '-N', '', '-C', 'test', '-f', path]);
  const [keyType = '', base64 = ''] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ');
  return {
    pubPath: `${path}.pub`,
    type: keyType,
    blob: Buffer.from(base64, 'base64'),
    listed: execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).trim(),
  };
}

const key = sshKeygen('ed25519');
const other = sshKeygen('ed25519');
const rsa = sshKeygen('rsa');
const line = (hosts: string, blob: Buffer, marker = ''): string => `${marker}${hosts} ${keyTypeOf(blob)} ${blob.toString('base64')}`;

describe('known_hosts', () => {
  it('names hosts as OpenSSH does', () => {
    expect(hostToken('bastion', 22)).toBe('bastion');
    expect(hostToken('bastion', 2222)).toBe('[bastion]:2222');
  });

  it('knows a host listed among several, with several keys', () => {
    const entries = parseKnownHosts(['# comment', '', line('alpha,bastion,10.0.0.1', other.blob), `${line('bastion', key.blob)} a comment`].join('\n'));
    expect(judgeHostKey(entries, 'bastion', key.blob)).toMatchObject({ kind: 'known', entry: { lineNumber: 4 } });
  });

  it('reports a changed key of the same type, and an unknown host', () => {
    const entries = parseKnownHosts(line('bastion', other.blob));
    expect(judgeHostKey(entries, 'bastion', key.blob).kind).toBe('changed');
    expect(judgeHostKey(entries, 'elsewhere', key.blob).kind).toBe('unknown');
  });

  it('a host known under another key type is changed, not new (an impostor offering only RSA is no new host)', () => {
    const entries = parseKnownHosts([line('bastion', key.blob), line('elsewhere', rsa.blob)].join('\n'));
    expect(judgeHostKey(entries, 'bastion', rsa.blob)).toEqual({ kind: 'changed', expected: [entries[0]] });
  });

  it('knows each of a host’s keys of several types', () => {
    const entries = parseKnownHosts([line('bastion', key.blob), line('bastion', rsa.blob)].join('\n'));
    expect(judgeHostKey(entries, 'bastion', rsa.blob)).toMatchObject({ kind: 'known', entry: { lineNumber: 2 } });
    expect(knownKeyTypes(entries, 'bastion')).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(entries, 'elsewhere')).toEqual([]);
  });

  it('matches wildcards and honours negation', () => {
    const entries = parseKnownHosts(line('*.example.com,!evil.example.com', key.blob));
    expect(judgeHostKey(entries, 'db-1.example.com', key.blob).kind).toBe('known');
    expect(judgeHostKey(entries, 'evil.example.com', key.blob).kind).toBe('unknown');
    expect(judgeHostKey(entries, '[db-1.example.com]:2222', key.blob).kind).toBe('unknown');
  });

  it('matches hashed names', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[bastion]:2222').digest();
    const entries = parseKnownHosts(line(`|1|${salt.toString('base64')}|${hash.toString('base64')}`, key.blob));
    expect(judgeHostKey(entries, '[bastion]:2222', key.blob).kind).toBe('known');
    expect(judgeHostKey(entries, 'bastion', key.blob).kind).toBe('unknown');
  });

  it('matches hosts exactly as ssh-keygen -F does (plain, wildcard, negated, port, hashed by ssh-keygen -H)', () => {
    const path = join(dir, 'known_hosts_patterns');
    writeFileSync(
      path,
      [
        line('*.example.com,!evil.example.com', key.blob),
        line('[bastion]:2222,10.0.0.?', key.blob),
        line('[hashed.example.org]:2200', key.blob),
        line('Plain.Example.Net', key.blob),
      ].join('\n') + '\n',
    );
    execFileSync('ssh-keygen', ['-q', '-H', '-f', path], { stdio: 'ignore' });
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    const entries = parseKnownHosts(text);
    const tokens = [
      'db-1.example.com',
      'evil.example.com',
      '[db-1.example.com]:2222',
      '[bastion]:2222',
      'bastion',
      '10.0.0.7',
      '10.0.0.17',
      '[hashed.example.org]:2200',
      'hashed.example.org',
      'plain.example.net',
    ];
    for (const token of tokens) {
      const openssh = spawnStatus('ssh-keygen', ['-F', token, '-f', path]) === 0;
      expect({ token, matched: entries.some((entry) => matchesHost(entry, token)) }).toEqual({ token, matched: openssh });
    }
  });

  it('refuses a revoked key even when the host lists it', () => {
    const entries = parseKnownHosts([line('bastion', key.blob), line('*', key.blob, '@revoked ')].join('\n'));
    expect(judgeHostKey(entries, 'bastion', key.blob).kind).toBe('revoked');
  });

  it('never takes an @cert-authority line for a host key, but knows the host it covers', () => {
    const caOnly = parseKnownHosts(line('*.example.com', key.blob, '@cert-authority '));
    // the CA's own key presented as a plain host key is not vouched for
    expect(judgeHostKey(caOnly, 'bastion.example.com', key.blob)).toMatchObject({ kind: 'cert-authority', authorities: [{ lineNumber: 1 }] });
    expect(judgeHostKey(caOnly, 'bastion.example.com', rsa.blob).kind).toBe('cert-authority');
    expect(judgeHostKey(caOnly, 'elsewhere', key.blob).kind).toBe('unknown');
    expect(knownKeyTypes(caOnly, 'bastion.example.com')).toEqual([]);

    const withKey = parseKnownHosts([line('*.example.com', key.blob, '@cert-authority '), line('bastion.example.com', rsa.blob)].join('\n'));
    expect(judgeHostKey(withKey, 'bastion.example.com', rsa.blob)).toMatchObject({ kind: 'known', entry: { lineNumber: 2 } });
    expect(judgeHostKey(withKey, 'bastion.example.com', key.blob)).toMatchObject({ kind: 'changed', expected: [{ lineNumber: 2 }] });
  });

  it('skips lines with an unknown @marker, as OpenSSH does', () => {
    expect(parseKnownHosts(line('bastion', key.blob, '@trusted '))).toEqual([]);
  });

  it('prints fingerprints and key types exactly as ssh-keygen -lf does', () => {
    for (const made of [key, rsa, sshKeygen('ecdsa', 256), sshKeygen('ecdsa', 384), sshKeygen('ecdsa', 521)]) {
      const [, fingerprint] = made.listed.split(' ');
      expect({ file: made.pubPath, fingerprint: fingerprintOf(made.blob) }).toEqual({ file: made.pubPath, fingerprint });
      expect(keyTypeOf(made.blob)).toBe(made.type);
    }
  });
});

function spawnStatus(command: string, args: string[]): number {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return 0;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (typeof status !== 'number') throw err;
    return status;
  }
}
