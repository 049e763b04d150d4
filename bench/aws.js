// @ts-check
// aws: connection set-up with an IAM token (cached, and signed anew) against a password login,
// and steady-state SELECT 1 through the aws provider against basic over the same verified TLS.
import { performance } from 'node:perf_hooks';
import { createDb, sdkAwsServices, AWS_SERVICES } from '../dist/index.js';
import { SANDBOX_AWS } from '#sandbox';
import { compare, header, median, table, throughput } from './measure.js';

const SETUPS = 30;

/**
 * @param {import('#sandbox').MariaDbSandbox} sandbox
 * @param {{ user: string; password: string; database: string }} passwordUser
 * @param {{ user: string; database: string }} iamUser
 */
export async function benchAws(sandbox, passwordUser, iamUser) {
  let signings = 0;
  const real = sdkAwsServices({ credentials: { accessKeyId: SANDBOX_AWS.accessKeyId, secretAccessKey: SANDBOX_AWS.secretAccessKey } });
  const counted = {
    ...real,
    /** @param {Parameters<typeof real.signRdsToken>[0]} request */
    signRdsToken(request) {
      signings += 1;
      return real.signRdsToken(request);
    },
  };
  const common = { DB_HOST: 'localhost', DB_PORT: String(sandbox.port), DB_TLS: 'verify-full', DB_TLS_CA: sandbox.tls.caPath, DB_LOG_LEVEL: 'warn' };
  const awsEnv = { ...common, DB_TYPE: 'aws', DB_USER: iamUser.user, DB_NAME: iamUser.database, AWS_REGION: SANDBOX_AWS.region };
  const basicEnv = { ...common, DB_TYPE: 'basic', DB_USER: passwordUser.user, DB_PASSWORD: passwordUser.password, DB_NAME: passwordUser.database };
  /** @param {Record<string, string>} env */
  const open = (env) =>
    createDb({ env, cwd: sandbox.dir, configure: (container) => container.rebind(AWS_SERVICES).toConstantValue(counted) });

  // Set-up time of one new physical connection: pool.max 1, each connection killed after use.
  /** @param {Record<string, string>} env @param {boolean} freshDbEachTime */
  async function setupMs(env, freshDbEachTime) {
    const times = [];
    let db = await open({ ...env, DB_POOL_MAX: '1' });
    for (let i = 0; i < SETUPS; i++) {
      if (freshDbEachTime && i > 0) {
        await db.close();
        db = await open({ ...env, DB_POOL_MAX: '1' });
      }
      const started = performance.now();
      await db.withSession(async (s) => {
        await s.query('SELECT 1');
        // the next session must open a new physical connection
        (await s.connect()).destroy();
      });
      times.push(performance.now() - started);
    }
    await db.close();
    return median(times);
  }
  const password = await setupMs(basicEnv, false);
  const before = signings;
  const iamCached = await setupMs(awsEnv, false);
  const cachedSignings = signings - before;
  const iamFresh = await setupMs(awsEnv, true);

  const awsDb = await open(awsEnv);
  const basicDb = await open(basicEnv);
  const steadyBefore = signings;
  try {
    const measured = await compare(
      { aws: (sql) => awsDb.withSession((s) => s.query(sql)), 'basic over TLS': (sql) => basicDb.withSession((s) => s.query(sql)) },
      { 'SELECT 1, concurrency 16 (ops/s)': (run) => throughput(run, 16) },
    );
    console.log(`\n## aws\n\n${header()}\n\n${table(measured, ['aws', 'basic over TLS'])}`);
    console.log(`\nSignings during the steady-state runs (10 pooled connections, one token lifetime): ${signings - steadyBefore}`);
  } finally {
    await awsDb.close();
    await basicDb.close();
  }
  console.log('\n| new connection set-up over TLS verify-full (median of 30, ms) | ms |\n|---|---:|');
  console.log(`| password login | ${password.toFixed(1)} |`);
  console.log(`| IAM, token cached (${cachedSignings} signing for ${SETUPS} connections) | ${iamCached.toFixed(1)} |`);
  console.log(`| IAM, token signed for the connection (new credentials lookup and signing) | ${iamFresh.toFixed(1)} |`);
}
