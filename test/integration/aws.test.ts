import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { Signer } from '@aws-sdk/rds-signer';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkAwsServices, type AwsCredentials, type AwsServices } from '../../src/aws/aws-services.js';
import { AWS_SERVICES } from '../../src/index.js';
import { createDb, type CreateDbOptions } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/db.js';
import { runCheck } from '../../src/diagnostics/run-check.js';
import { iamAuthPlugins } from '../../src/credentials/iam-auth-plugin.js';
import { makeCertificates } from '../../sandbox/certificates.js';
import { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from '../../sandbox/iam-pam.js';
import { startMariaDb, type MariaDbSandbox } from '../../sandbox/mariadb-sandbox.js';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../sandbox/secrets-manager-stand-in.js';
import { knownHostsFile, useBastion } from '../support/bastion.js';
import { runCli } from '../support/cli.js';
import { capturedLogger, emptyDir, eventually } from '../support/test-db.js';

// A server of its own: started with the PAM plugin, its IAM user checked by the SigV4 checker.
// PAM reads its services only from /etc/pam.d, so this file needs root (CI runs as root).
const asRoot = process.getuid?.() === 0;
let server: MariaDbSandbox;
let iam: IamAuthentication;
let secrets: SecretsManagerStandIn;
let otherCaDir: string;
let otherCaPath: string;
const dbs: Db[] = [];
const stops: (() => Promise<void> | void)[] = [];
const bastion = useBastion();
const staticCredentials: AwsCredentials = { accessKeyId: SANDBOX_AWS.accessKeyId, secretAccessKey: SANDBOX_AWS.secretAccessKey };

beforeAll(async () => {
  if (!asRoot) return;
  server = await startMariaDb({ extraArgs: IAM_SERVER_ARGS });
  stops.unshift(() => server.destroy());
  iam = await installIamAuthentication(server, `localhost:${server.port}`);
  stops.unshift(() => iam.remove());
  await iam.createUser('iam_user', 'iamdb');
  secrets = await startSecretsManagerStandIn();
  stops.unshift(() => secrets.close());
  otherCaDir = mkdtempSync(join(tmpdir(), 'dbswitch-aws-ca-'));
  stops.unshift(() => {
    rmSync(otherCaDir, { recursive: true, force: true });
  });
  otherCaPath = (await makeCertificates(otherCaDir, ['localhost'], 'other-')).caPath;
});

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.close()));
  // What beforeAll started, newest first: all of it, or what it got to before it failed.
  for (const stop of stops) await stop();
});

function awsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DB_TYPE: 'aws',
    DB_HOST: 'localhost',
    DB_PORT: String(server.port),
    DB_USER: 'iam_user',
    DB_NAME: 'iamdb',
    AWS_REGION: SANDBOX_AWS.region,
    DB_TLS_CA: server.tls.caPath,
    DB_LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** The real SDK with the sandbox's fake credentials; signings counted. */
function services(credentials: () => AwsCredentials = () => staticCredentials): AwsServices & { signings: number } {
  const real = sdkAwsServices({ endpoints: { secretsManager: secrets.url }, credentials: () => Promise.resolve(credentials()) });
  const counted = {
    ...real,
    signings: 0,
    async signRdsToken(request: Parameters<AwsServices['signRdsToken']>[0]) {
      counted.signings++;
      return real.signRdsToken(request);
    },
  };
  return counted;
}

async function open(env: Record<string, string>, aws: AwsServices = services(), options: CreateDbOptions = {}): Promise<Db> {
  const db = await createDb({ env, cwd: emptyDir, configure: (container) => container.rebind(AWS_SERVICES).toConstantValue(aws), ...options });
  dbs.push(db);
  return db;
}

/** Logs in as iam_user with `token` as the password, over verified TLS, outside dbswitch. */
async function loginWith(token: string): Promise<string> {
  try {
    const connection = await mysql.createConnection({
      host: 'localhost',
      port: server.port,
      user: 'iam_user',
      ssl: { ca: readFileSync(server.tls.caPath, 'utf8') },
      authPlugins: { mysql_clear_password: () => () => Buffer.from(`${token}\0`) },
    });
    await connection.end();
    return 'accepted';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  }
}

async function lastReceived(): Promise<{ ok: boolean; reason: string; signedFor: string } | undefined> {
  return (await iam.received()).at(-1);
}

class NodeSha256 {
  readonly #hash;
  constructor(secret?: unknown) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: unknown): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function bytes(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const view = data as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

describe.skipIf(!asRoot)('DB_TYPE=aws: RDS IAM authentication against a real server that checks SigV4', () => {
  it('logs in with a fresh token over verified TLS, and check reports it without the token', async () => {
    const db = await open(awsEnv());
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>("SELECT CURRENT_USER() AS user, VARIABLE_VALUE AS tls FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'"));
    expect(row).toMatchObject({ user: 'iam_user@%', tls: expect.stringMatching(/^TLSv1\.[23]$/) as unknown });
    expect(await lastReceived()).toMatchObject({ ok: true, signedFor: `localhost:${server.port}` });
    const report = await runCheck(db);
    expect(report.auth).toMatchObject({ method: 'iam', token: { signedFor: `localhost:${server.port}`, user: 'iam_user' } });
    expect(JSON.stringify(report)).not.toContain('X-Amz-Signature');
  });

  it('the server refuses a token with a bad signature, an expired one, and one signed for another host', async () => {
    const sign = (hostname: string, secretAccessKey: string): Promise<string> =>
      new Signer({ hostname, port: server.port, username: 'iam_user', region: SANDBOX_AWS.region, credentials: { ...staticCredentials, secretAccessKey } }).getAuthToken();
    expect(await loginWith(await sign('localhost', 'not-the-secret'))).toBe('ER_ACCESS_DENIED_ERROR');
    expect((await lastReceived())?.reason).toBe('bad signature');

    const presigner = new SignatureV4({ credentials: staticCredentials, region: SANDBOX_AWS.region, service: 'rds-db', sha256: NodeSha256 });
    const expired = await presigner.presign(
      { method: 'GET', protocol: 'https:', hostname: 'localhost', port: server.port, path: '/', query: { Action: 'connect', DBUser: 'iam_user' }, headers: { host: `localhost:${server.port}` } },
      { expiresIn: 900, signingDate: new Date(Date.now() - 20 * 60_000) },
    );
    const expiredToken = `localhost:${server.port}/?${new URLSearchParams(expired.query as Record<string, string>).toString()}`;
    expect(await loginWith(expiredToken)).toBe('ER_ACCESS_DENIED_ERROR');
    expect((await lastReceived())?.reason).toBe('expired');

    expect(await loginWith(await sign('other.example.com', staticCredentials.secretAccessKey))).toBe('ER_ACCESS_DENIED_ERROR');
    expect((await lastReceived())?.reason).toContain('signed for other.example.com');
  });

  it('refuses to start without verified TLS, and the server never receives a token', async () => {
    const before = (await iam.received()).length;
    await expect(open(awsEnv({ DB_TLS: 'required' }))).rejects.toMatchObject({ code: 'ECONFIG', message: expect.stringContaining('verify-full') as unknown });
    // and the auth plugin itself refuses a stream that is not verified TLS
    let asked = false;
    const plugin = iamAuthPlugins(() => {
      asked = true;
      return Promise.resolve('token');
    }, 'localhost').mysql_clear_password({ connection: { stream: new PassThrough() } });
    await expect(plugin()).rejects.toMatchObject({ code: 'ETLS' });
    expect(asked).toBe(false);
    expect((await iam.received()).length).toBe(before);
  });

  it('refuses a server certificate from another CA, or for another name, before sending the token', async () => {
    const before = (await iam.received()).length;
    for (const overrides of [{ DB_TLS_CA: otherCaPath }, { DB_HOST: '127.0.0.1' }, { DB_TLS_CA: '' }]) {
      const db = await open(awsEnv(overrides));
      await expect(db.withSession((s) => s.query('SELECT 1'))).rejects.toMatchObject({ code: 'ETLS' });
    }
    expect((await iam.received()).length).toBe(before);
  });

  it('signs once for concurrent connections, and again for new connections once the credentials expire', async () => {
    const expiring = services(() => ({ ...staticCredentials, expiration: new Date(Date.now() + 2000) }));
    const db = await open(awsEnv({ DB_POOL_IDLE_TIMEOUT_MS: '300' }), expiring);
    await Promise.all([1, 2, 3].map(() => db.withSession((s) => s.query('SELECT SLEEP(0.05)'))));
    // A session may be served by a connection another one released while its own was opening.
    expect(await eventually(() => Promise.resolve(db.stats.opening === 0 && db.stats.open >= 2))).toBe(true);
    expect(expiring.signings).toBe(1);
    expect(await eventually(() => Promise.resolve(db.stats.open === 0), 3000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await db.withSession((s) => s.query('SELECT 1'));
    expect(expiring.signings).toBe(2);
  });

  it('puts no token and no secret in any log line at trace level or in any error', async () => {
    const { logger, lines } = capturedLogger('trace');
    const db = await open(awsEnv({ DB_LOG_LEVEL: 'trace', DB_LOG_QUERIES: 'true' }), services(), { logger });
    await db.withSession((s) => s.query('SELECT 1'));
    const wrongKey = services(() => ({ ...staticCredentials, secretAccessKey: 'wrong-secret-key-xyz' }));
    const failing = await open(awsEnv({ DB_LOG_LEVEL: 'trace' }), wrongKey, { logger });
    const err = await failing.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EAUTH' });
    const everything = [lines.join('\n'), String(err), (err as Error).stack, JSON.stringify(err), String((err as Error).cause)].join('\n');
    for (const secret of ['X-Amz-Signature', 'X-Amz-Credential', SANDBOX_AWS.secretAccessKey, 'wrong-secret-key-xyz']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe.skipIf(!asRoot)('the CLI with DB_TYPE=aws (the SDK finds the fake credentials in the environment)', () => {
  const cliEnv = (): Record<string, string> => ({
    ...awsEnv(),
    AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

  it('check reports IAM auth with the signing host and expiry, never the token', async () => {
    const run = await runCli(['check'], cliEnv());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`auth {7}iam \\(token signed for localhost:${server.port}, user iam_user, valid until \\d{4}-`));
    expect(run.stdout).toMatch(/tls\s+TLSv1\.[23] \S+, certificate from dbswitch sandbox CA, verified/);
    expect(run.stdout).not.toContain('X-Amz');
  });

  it('exec hands the command a fresh token as DB_PASSWORD, MYSQL_PWD and in DATABASE_URL', async () => {
    const run = await runCli(['exec', '--', 'sh', '-c', 'printf "%s\\n%s\\n%s\\n" "$DB_PASSWORD" "$MYSQL_PWD" "$DATABASE_URL"'], cliEnv());
    expect(run.code).toBe(0);
    const [password, mysqlPwd, url] = run.stdout.trim().split('\n');
    expect(password).toMatch(new RegExp(`^localhost:${server.port}/\\?Action=connect&DBUser=iam_user&`));
    expect(mysqlPwd).toBe(password);
    expect(url).toBe(`mysql://iam_user:${encodeURIComponent(password ?? '')}@localhost:${server.port}/iamdb`);
    expect(await loginWith(password ?? '')).toBe('accepted');
  });
});

describe.skipIf(!asRoot)('Secrets Manager (DB_SECRET_ID) through the real SDK against a local stand-in', () => {
  it('fills user, password, host, port and database from the secret, and follows a rotation', async () => {
    await server.createUser('rotated', 'first-password', 'rotdb');
    const secretId = 'prod/app/mysql';
    const secretFor = (password: string): string =>
      JSON.stringify({ engine: 'mysql', username: 'rotated', password, host: '127.0.0.1', port: server.port, dbname: 'rotdb' });
    secrets.put(secretId, secretFor('first-password'));
    const db = await open({ DB_TYPE: 'basic', DB_SECRET_ID: secretId, AWS_REGION: SANDBOX_AWS.region, DB_LOG_LEVEL: 'silent', DB_POOL_IDLE_TIMEOUT_MS: '200' });
    const [[first]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user, DATABASE() AS db'));
    expect(first).toEqual({ user: 'rotated@%', db: 'rotdb' });
    const readsBefore = secrets.reads;

    // rotation: the server's password changes, then the secret; dbswitch still holds the old one
    await server.sql("ALTER USER 'rotated'@'%' IDENTIFIED BY 'second-password'", "ALTER USER 'rotated'@'localhost' IDENTIFIED BY 'second-password'");
    secrets.put(secretId, secretFor('second-password'));
    expect(await eventually(() => Promise.resolve(db.stats.open === 0), 3000)).toBe(true);
    const [[second]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user'));
    expect(second?.['user']).toBe('rotated@%');
    expect(secrets.reads).toBe(readsBefore + 1);
  });

  it('says which secret it could not read', async () => {
    const db = await open({ DB_TYPE: 'basic', DB_SECRET_ID: 'no/such/secret', AWS_REGION: SANDBOX_AWS.region, DB_LOG_LEVEL: 'silent' });
    const err = (await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('EAUTH');
    expect(err.message).toContain('no/such/secret');
    expect(err.message).toContain('DB_SECRET_ID');
  });
});

describe.skipIf(!asRoot)('IAM through the bastion (DB_TYPE=ssh, DB_AUTH=iam)', () => {
  it('signs the token for the database as the bastion sees it, and verifies TLS for that name', async () => {
    const db = await open({
      ...awsEnv(),
      DB_TYPE: 'ssh',
      DB_AUTH: 'iam',
      DB_TLS: 'verify-full',
      SSH_HOST: bastion.current.host,
      SSH_PORT: String(bastion.current.port),
      SSH_USER: bastion.current.user,
      SSH_PRIVATE_KEY_PATH: bastion.current.clientKeyPath,
      SSH_KNOWN_HOSTS: knownHostsFile(bastion.dir, bastion.current.knownHostsLine),
    });
    const [[row]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT CURRENT_USER() AS user'));
    expect(row?.['user']).toBe('iam_user@%');
    expect(await lastReceived()).toMatchObject({ ok: true, signedFor: `localhost:${server.port}` });
  });
});
