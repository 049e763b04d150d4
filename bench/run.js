// @ts-check
// The benchmarks of dbswitch, in one run against the private sandbox (README "Performance"):
//   npm run bench                       (builds first)
//   npm run bench -- basic|ssh|aws|express|lambda|orm|cold-start
//   BENCH_SECONDS=5 BENCH_ROUNDS=5 npm run bench
import { IAM_SERVER_ARGS, installIamAuthentication, startMariaDb, startSshd } from '#sandbox';
import { benchAws } from './aws.js';
import { benchBasic } from './basic.js';
import { benchColdStart } from './cold-start.js';
import { benchExpress } from './express.js';
import { benchLambda } from './lambda.js';
import { benchMappers } from './orm-mappers.js';
import { benchPrisma } from './orm-prisma.js';
import { benchQueryBuilders } from './orm-query-builders.js';
import { benchSsh, sshEnvFor } from './ssh.js';

const BIG_ROWS = 20_000; // rows of ~1 KiB: a 20 MB result

const [sandbox, bastion] = await Promise.all([startMariaDb({ extraArgs: IAM_SERVER_ARGS }), startSshd()]);
// RDS IAM is played by a PAM login that checks each token's signature (needs root for /etc/pam.d).
const iam = process.getuid?.() === 0 ? await installIamAuthentication(sandbox, `localhost:${sandbox.port}`) : undefined;
try {
  await sandbox.createUser('bench', 'bench-password', 'bench');
  await sandbox.sql(
    'CREATE TABLE bench.big (id INT PRIMARY KEY, payload VARCHAR(1000) NOT NULL)',
    `INSERT INTO bench.big SELECT seq, REPEAT('x', 1000) FROM bench.seq_1_to_${BIG_ROWS}`,
  );
  const database = { host: '127.0.0.1', port: sandbox.port, user: 'bench', password: 'bench-password', database: 'bench' };
  const only = process.argv[2];
  if (only === undefined || only === 'basic') await benchBasic(database, sandbox.dir);
  if (only === undefined || only === 'ssh') await benchSsh(database, bastion);
  if (only === undefined || only === 'express') await benchExpress(database, sandbox.dir);
  if (only === undefined || only === 'lambda') await benchLambda(database);
  if (only === undefined || only === 'orm') {
    await benchQueryBuilders(database, bastion);
    await benchMappers(database, bastion);
    await benchPrisma(database, bastion);
  }
  if (only === undefined || only === 'cold-start') {
    const { env, knownHosts } = sshEnvFor(database, bastion, 10);
    await benchColdStart(database, env, bastion, knownHosts);
  }
  if ((only === undefined || only === 'aws') && iam !== undefined) {
    await iam.createUser('bench_iam', 'bench');
    await benchAws(sandbox, database, { user: 'bench_iam', database: 'bench' });
  }
} finally {
  await iam?.remove();
  await Promise.all([sandbox.destroy(), bastion.destroy()]);
}
