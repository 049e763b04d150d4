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

/**
 * What the file says about the key a server presented:
 * - `known`: an entry for the host holds this very key;
 * - `revoked`: an `@revoked` line holds this key (for any host: a revoked key is never trusted);
 * - `changed`: the host is listed with keys, of any type, none of which is this one;
 * - `cert-authority`: the host is listed only under `@cert-authority` lines, which vouch for host
 *   certificates, never for a plain key;
 * - `unknown`: nothing in the file is about this host.
 */
export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHost }
  | { readonly kind: 'revoked'; readonly entry: KnownHost }
  | { readonly kind: 'changed'; readonly expected: readonly KnownHost[] }
  | { readonly kind: 'cert-authority'; readonly authorities: readonly KnownHost[] }
  | { readonly kind: 'unknown' };

/**
 * Parses known_hosts text; comments, blank and malformed lines (an unknown `@marker` included)
 * are skipped, as OpenSSH does.
 */
export function parseKnownHosts(text: string): KnownHost[] {
  const entries: KnownHost[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    const first = fields[0] ?? '';
    if (first === '' || first.startsWith('#')) return;
    const marker: KnownHost['marker'] = first === '@revoked' ? 'revoked' : first === '@cert-authority' ? 'cert-authority' : undefined;
    if (marker === undefined && first.startsWith('@')) return;
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
 * Judges the key a server presented for `token` (its blob as sent in the SSH handshake), with
 * OpenSSH's semantics: a host listed under ANY key type is not new, so a key of another type than
 * the ones on record is a changed key, not a new one (an impostor cannot get in by offering only a
 * type the file lacks). `@cert-authority` lines are not host keys: they never vouch for a plain
 * key, but they do make the host known.
 *
 * @example
 * judgeHostKey(parseKnownHosts(text), hostToken('bastion.example.com', 22), keyBlob).kind // 'known'
 */
export function judgeHostKey(entries: readonly KnownHost[], token: string, keyBlob: Buffer): HostKeyVerdict {
  const keyBase64 = keyBlob.toString('base64');
  const revoked = entries.find((entry) => entry.marker === 'revoked' && entry.keyBase64 === keyBase64);
  if (revoked !== undefined) return { kind: 'revoked', entry: revoked };
  const hostKeys = plainEntriesFor(entries, token);
  const known = hostKeys.find((entry) => entry.keyBase64 === keyBase64);
  if (known !== undefined) return { kind: 'known', entry: known };
  if (hostKeys.length > 0) return { kind: 'changed', expected: hostKeys };
  const authorities = entries.filter((entry) => entry.marker === 'cert-authority' && matchesHost(entry, token));
  return authorities.length > 0 ? { kind: 'cert-authority', authorities } : { kind: 'unknown' };
}

/** The key types (`ssh-ed25519`, `ssh-rsa`, ...) the file holds plain keys of for `token`, in file order, once each. */
export function knownKeyTypes(entries: readonly KnownHost[], token: string): string[] {
  return [...new Set(plainEntriesFor(entries, token).map((entry) => entry.keyType))];
}

/** The host's own key lines: no `@revoked`, no `@cert-authority`. */
function plainEntriesFor(entries: readonly KnownHost[], token: string): KnownHost[] {
  return entries.filter((entry) => entry.marker === undefined && matchesHost(entry, token));
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
