import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One key line of a known_hosts file (see sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"). */
export interface KnownHost {
  readonly lineNumber: number;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  /** Host patterns (`host`, `[host]:port`, wildcards, `!negated`), or a hashed name. */
  readonly hosts: { readonly patterns: readonly string[] } | { readonly salt: Buffer; readonly hash: Buffer };
  readonly keyType: string;
  readonly keyBase64: string;
}

/** What the file says about the key a server presented. */
export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHost }
  | { readonly kind: 'revoked'; readonly entry: KnownHost }
  | { readonly kind: 'changed'; readonly expected: readonly KnownHost[] }
  | { readonly kind: 'unknown' };

/** Parses known_hosts text; comments, blank and malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHost[] {
  const entries: KnownHost[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    const first = fields[0] ?? '';
    if (first === '' || first.startsWith('#')) return;
    const marker: KnownHost['marker'] = first === '@revoked' ? 'revoked' : first === '@cert-authority' ? 'cert-authority' : undefined;
    const [hostField, keyType, keyBase64] = marker === undefined ? fields : fields.slice(1);
    if (hostField === undefined || keyType === undefined || keyBase64 === undefined) return;
    const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(hostField);
    entries.push({
      lineNumber: index + 1,
      marker,
      hosts:
        hashed?.[1] !== undefined && hashed[2] !== undefined
          ? { salt: Buffer.from(hashed[1], 'base64'), hash: Buffer.from(hashed[2], 'base64') }
          : { patterns: hostField.split(',') },
      keyType,
      keyBase64,
    });
  });
  return entries;
}

/** The name a host goes by in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether an entry is about `token`. */
export function matchesHost(entry: KnownHost, token: string): boolean {
  if ('salt' in entry.hosts) {
    const digest = createHmac('sha1', entry.hosts.salt).update(token).digest();
    return digest.length === entry.hosts.hash.length && timingSafeEqual(digest, entry.hosts.hash);
  }
  let matched = false;
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (globMatch(negated ? pattern.slice(1) : pattern, token)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Judges the key a server presented for `token` (its blob as sent in the SSH handshake):
 * known when an entry holds this very key; changed when the host is listed with another key of
 * the same type; unknown otherwise (keys of other types do not vouch for this one, as in OpenSSH).
 */
export function judgeHostKey(entries: readonly KnownHost[], token: string, keyBlob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(keyBlob);
  const keyBase64 = keyBlob.toString('base64');
  const forHost = entries.filter((entry) => entry.marker !== 'cert-authority' && matchesHost(entry, token));
  const revoked = entries.find((entry) => entry.marker === 'revoked' && entry.keyBase64 === keyBase64);
  if (revoked !== undefined) return { kind: 'revoked', entry: revoked };
  const known = forHost.find((entry) => entry.marker === undefined && entry.keyBase64 === keyBase64);
  if (known !== undefined) return { kind: 'known', entry: known };
  const sameType = forHost.filter((entry) => entry.marker === undefined && entry.keyType === keyType);
  return sameType.length > 0 ? { kind: 'changed', expected: sameType } : { kind: 'unknown' };
}

/** The line that records `keyBlob` for `token`. */
export function knownHostsLine(token: string, keyBlob: Buffer): string {
  return `${token} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

/** `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of a key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's pattern language: `*` any run, `?` one character, case-insensitive. */
function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(text);
}
