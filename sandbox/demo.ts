// `npm run demo`: the whole library on a private sandbox, started and removed by this script.
// It uses dbswitch as an application does, through the package's public API only.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AWS_SERVICES, createDb, isDbSwitchError, runCli, sdkAwsServices,
  type Container, type Db, type RowDataPacket,
} from 'dbswitch';
import { ensureSandboxPrograms } from './ensure-programs.js';
import { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from './iam-pam.js';
import { startMariaDb, type MariaDbSandbox } from './mariadb-sandbox.js';
import { startSshd, type SshSandbox } from './ssh-sandbox.js';

const print = (...lines: string[]): void => {
  process.stdout.write(`${lines.join('\n')}\n`);
};

await ensureSandboxPrograms();
print('Starting a private MariaDB (TLS certificates made by openssl) and a private OpenSSH bastion on random loopback ports ...');
const [sandbox, bastion] = await Promise.all([startMariaDb({ extraArgs: IAM_SERVER_ARGS }), startSshd()]);
// RDS IAM is played by a PAM login that checks the token's signature; PAM needs root.
const iam = process.getuid?.() === 0 ? await installIamAuthentication(sandbox, `localhost:${sandbox.port}`) : undefined;
const destroy = async (): Promise<void> => {
  await iam?.remove();
  await Promise.all([sandbox.destroy(), bastion.destroy()]);
};
const stopOnSignal = (): void => {
  void destroy().finally(() => process.exit(130));
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);
try {
  await runDemo(sandbox, bastion, iam);
} finally {
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);
  await destroy();
  print('', 'Sandbox stopped and its temp dir removed.');
}

async function runDemo(sandbox: MariaDbSandbox, bastion: SshSandbox, iam: IamAuthentication | undefined): Promise<void> {
  const password = randomBytes(12).toString('base64url');
  await sandbox.createUser('demo', password, 'demo');
  await iam?.createUser('demo_iam', 'demo');
  const knownHosts = join(bastion.dir, 'known_hosts');
  await writeFile(knownHosts, `${bastion.knownHostsLine}\n`);
  print(`MariaDB is up on 127.0.0.1:${sandbox.port}; user "demo" created. The bastion (sshd) is up on 127.0.0.1:${bastion.port}.`, '');

  const base = { DB_TYPE: 'basic', DB_USER: 'demo', DB_PASSWORD: password, DB_NAME: 'demo', DB_PORT: String(sandbox.port), DB_LOG_LEVEL: 'warn' };
  const variants: [string, Record<string, string>][] = [
    ['basic over TCP', { DB_HOST: '127.0.0.1' }],
    ['basic over the unix socket (DB_SOCKET)', { DB_SOCKET: sandbox.socketPath }],
    ['basic over TLS, verify-full', { DB_HOST: 'localhost', DB_TLS: 'verify-full', DB_TLS_CA: sandbox.tls.caPath }],
    [
      'ssh through the bastion (host key checked against known_hosts), TLS verify-full to the database',
      {
        DB_TYPE: 'ssh',
        DB_HOST: 'localhost',
        DB_TLS: 'verify-full',
        DB_TLS_CA: sandbox.tls.caPath,
        SSH_HOST: bastion.host,
        SSH_PORT: String(bastion.port),
        SSH_USER: bastion.user,
        SSH_PRIVATE_KEY_PATH: bastion.clientKeyPath,
        SSH_KNOWN_HOSTS: knownHosts,
      },
    ],
  ];
  if (iam === undefined) {
    print('(the aws variant needs root: the sandbox plays RDS IAM with a PAM service in /etc/pam.d)', '');
  } else {
    variants.push([
      'aws: an RDS IAM token (signed by @aws-sdk/rds-signer with the sandbox\'s fake credentials) over TLS verify-full',
      {
        DB_TYPE: 'aws',
        DB_HOST: 'localhost',
        DB_USER: 'demo_iam',
        DB_PASSWORD: '',
        DB_TLS_CA: sandbox.tls.caPath,
        AWS_REGION: SANDBOX_AWS.region,
        AWS_ACCESS_KEY_ID: SANDBOX_AWS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: SANDBOX_AWS.secretAccessKey,
      },
    ]);
  }
  for (const [title, env] of variants) {
    print(`== ${title}: dbswitch check`);
    const code = await runCli(['check'], { env: { ...base, ...env }, cwd: sandbox.dir, configure: (container) => { withEnvCredentials(container, env); } });
    if (code !== 0) throw new Error(`dbswitch check failed for "${title}"`);
    print('');
  }

  print('== a workload through createDb() with DB_TYPE=basic');
  const db = await createDb({ env: base, cwd: sandbox.dir });
  try {
    await workload(db);
  } finally {
    await db.close();
  }
}

/** The demo's fake AWS credentials go to the SDK directly, not through this process's environment. */
function withEnvCredentials(container: Container, env: Record<string, string>): void {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId === undefined || secretAccessKey === undefined) return;
  container.rebind(AWS_SERVICES).toConstantValue(sdkAwsServices({ credentials: { accessKeyId, secretAccessKey } }));
}

interface CountRow extends RowDataPacket {
  n: number;
}

async function workload(db: Db): Promise<void> {
  const count = async (): Promise<number> => db.withSession(async (s) => (await s.query<CountRow[]>('SELECT COUNT(*) AS n FROM account'))[0][0]?.n ?? -1);

  await db.withSession(async (s) => {
    await s.query('CREATE TABLE account (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance INT NOT NULL)');
    await s.transaction(async (tx) => {
      await tx.query('INSERT INTO account (owner, balance) VALUES (?, ?), (?, ?)', ['ada', 100, 'grace', 50]);
    });
  });
  print(`  transaction committed: ${await count()} accounts`);

  try {
    await db.withSession((s) =>
      s.transaction(async (tx) => {
        await tx.query('INSERT INTO account (owner, balance) VALUES (?, ?)', ['mallory', 1_000_000]);
        throw new Error('validation failed');
      }),
    );
  } catch (err) {
    print(`  transaction that threw (${(err as Error).message}) rolled back: ${await count()} accounts`);
  }

  for await (const s of db.getDb()) {
    await s.query('BEGIN');
    await s.query('UPDATE account SET balance = 0');
  }
  const [[richest]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT MAX(balance) AS top FROM account'));
  print(`  session released with a raw BEGIN still open: rolled back, top balance still ${String(richest?.['top'])}`);

  await db.withSession((s) => s.query("SET @left_behind = 'by the previous session'"));
  const [[inherited]] = await db.withSession((s) => s.query<RowDataPacket[]>('SELECT @left_behind AS value'));
  print(`  a user variable set by one session, seen by the next: ${String(inherited?.['value'])} (reset on release, only because it changed)`);

  const timedOut = Date.now();
  const outcome = await db.withSession((s) => s.query({ sql: 'SELECT SLEEP(5)', timeout: 300 })).catch((err: unknown) => err);
  const [running] = await db.withSession((s) => s.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(5)'"));
  print(
    `  SELECT SLEEP(5) with timeout 300 ms: ${isDbSwitchError(outcome) ? outcome.code : 'no error'} after ${Date.now() - timedOut} ms; ` +
      `still running on the server: ${String(running[0]?.['n'])}`,
  );

  const started = performance.now();
  const total = 2_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < total) await db.withSession((s) => s.query('SELECT 1'));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  print(`  ${total} sessions at concurrency 16 in ${seconds.toFixed(2)} s (${Math.round(total / seconds)}/s) on ${db.stats.open} pooled connections`);
}
