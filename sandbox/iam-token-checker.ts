/**
 * The password checker of the sandbox's IAM user, run by pam_exec (expose_authtok) for each login:
 * it reads the RDS IAM token the client sent, recomputes its AWS SigV4 signature with the sandbox's
 * fake credentials, checks expiry, signing host and user, appends what it received (never the
 * token's signature) to a log, and exits 0 to accept or 1 to refuse.
 *
 *   node iam-token-checker.js <settings.json>
 *   settings: { host, region, accessKeyId, secretAccessKey, logPath }
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

interface Settings {
  host: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  logPath: string;
}

/** One login as the checker saw it. */
export interface ReceivedToken {
  user: string;
  signedFor: string;
  ok: boolean;
  reason: string;
  at: number;
}

const settings = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Settings;
const token = readFileSync(0, 'utf8').replace(/[\0\r\n]+$/g, '');
const user = process.env['PAM_USER'] ?? '';
const verdict = check(token);
const entry: ReceivedToken = { user, signedFor: token.split('/?')[0] ?? '', ok: verdict === 'ok', reason: verdict, at: Date.now() };
appendFileSync(settings.logPath, `${JSON.stringify(entry)}\n`);
process.exit(verdict === 'ok' ? 0 : 1);

function check(text: string): string {
  const [hostPort, query] = text.split('/?');
  if (hostPort === undefined || query === undefined) return 'not an RDS IAM token';
  if (hostPort !== settings.host) return `signed for ${hostPort}, not ${settings.host}`;
  const params = new URLSearchParams(query);
  const get = (name: string): string => params.get(name) ?? '';
  if (get('Action') !== 'connect') return 'Action is not connect';
  if (get('DBUser') !== user) return `signed for user ${get('DBUser')}, not ${user}`;
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'unknown algorithm';
  const [accessKeyId, date, region, service, terminator] = get('X-Amz-Credential').split('/');
  if (accessKeyId !== settings.accessKeyId) return 'unknown access key';
  if (region !== settings.region || service !== 'rds-db' || terminator !== 'aws4_request') return 'wrong credential scope';
  const amzDate = get('X-Amz-Date');
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const expiresAt = signedAt + Number(get('X-Amz-Expires')) * 1000;
  if (!Number.isFinite(expiresAt) || Date.now() > expiresAt) return 'expired';
  if (signedAt > Date.now() + 5 * 60_000) return 'signed in the future';

  const canonicalQuery = [...params.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [encode(name), encode(value)])
    .sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name ?? ''}=${value ?? ''}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${hostPort}`, '', 'host', sha256('')].join('\n');
  const scope = `${date ?? ''}/${region}/${service}/${terminator}`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${settings.secretAccessKey}`, date ?? '');
  for (const part of [region, service, terminator]) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(get('X-Amz-Signature'), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'bad signature';
}

function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}
