import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, hostToken, judgeHostKey, keyTypeOf, parseKnownHosts } from '../../src/providers/ssh/known-hosts.js';

/** An ed25519 public key blob as SSH sends it: string "ssh-ed25519", string key. */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (data: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
  return Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
}

const key = ed25519Blob();
const other = ed25519Blob();
const line = (hosts: string, blob: Buffer, marker = ''): string => `${marker}${hosts} ${keyTypeOf(blob)} ${blob.toString('base64')}`;

describe('known_hosts', () => {
  it('names hosts as OpenSSH does', () => {
    expect(hostToken('bastion', 22)).toBe('bastion');
    expect(hostToken('bastion', 2222)).toBe('[bastion]:2222');
  });

  it('knows a host listed among several, with several keys', () => {
    const entries = parseKnownHosts(['# comment', '', line('alpha,bastion,10.0.0.1', other), `${line('bastion', key)} a comment`].join('\n'));
    expect(judgeHostKey(entries, 'bastion', key)).toMatchObject({ kind: 'known', entry: { lineNumber: 4 } });
  });

  it('reports a changed key of the same type, and an unknown host', () => {
    const entries = parseKnownHosts(line('bastion', other));
    expect(judgeHostKey(entries, 'bastion', key).kind).toBe('changed');
    expect(judgeHostKey(entries, 'elsewhere', key).kind).toBe('unknown');
  });

  it('matches wildcards and honours negation', () => {
    const entries = parseKnownHosts(line('*.example.com,!evil.example.com', key));
    expect(judgeHostKey(entries, 'db-1.example.com', key).kind).toBe('known');
    expect(judgeHostKey(entries, 'evil.example.com', key).kind).toBe('unknown');
    expect(judgeHostKey(entries, '[db-1.example.com]:2222', key).kind).toBe('unknown');
  });

  it('matches hashed names', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[bastion]:2222').digest();
    const entries = parseKnownHosts(line(`|1|${salt.toString('base64')}|${hash.toString('base64')}`, key));
    expect(judgeHostKey(entries, '[bastion]:2222', key).kind).toBe('known');
    expect(judgeHostKey(entries, 'bastion', key).kind).toBe('unknown');
  });

  it('refuses a revoked key even when the host lists it', () => {
    const entries = parseKnownHosts([line('bastion', key), line('*', key, '@revoked ')].join('\n'));
    expect(judgeHostKey(entries, 'bastion', key).kind).toBe('revoked');
  });

  it('prints fingerprints as ssh-keygen does: SHA256, base64 without padding', () => {
    expect(fingerprintOf(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
