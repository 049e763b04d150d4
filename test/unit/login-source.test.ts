/**
 * The login of each new connection: configuration first, the Secrets Manager secret for what the
 * configuration left out, a secret's text never in an error, and one retry after a rotation.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { explainConfig } from '../../src/config/load-config.js';
import { LoginSource, type Login } from '../../src/credentials/login-source.js';
import { DbSwitchError } from '../../src/errors.js';
import { FakeAwsServices, secretJson } from './fakes/fake-aws.js';

const SECRET_ID = 'prod/app/db';
const OLD_PASSWORD = 'Old-p4ss-W0rd!';
const NEW_PASSWORD = 'N3w-p4ss-W0rd!';

function loginSource(env: Record<string, string>, aws: FakeAwsServices): LoginSource {
  const { config, sources } = explainConfig({ env: { DB_SECRET_ID: SECRET_ID, AWS_REGION: 'eu-west-1', ...env }, cwd: mkdtempSync(join(tmpdir(), 'dbswitch-login-')) });
  return new LoginSource(config, aws, pino({ level: 'silent' }), sources);
}

const rdsSecret = (password: string): ReturnType<typeof secretJson> =>
  secretJson({ username: 'app_user', password, host: 'db.cluster-abc.eu-west-1.rds.amazonaws.com', port: 3307, dbname: 'shop', engine: 'mysql' });

/** Everything an error could show: message, cause chain, stack. */
function everything(err: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = err; current !== undefined && current !== null; current = (current as { cause?: unknown }).cause) {
    const { message, stack } = current as { message?: unknown; stack?: unknown };
    parts.push(typeof message === 'string' ? message : '', typeof stack === 'string' ? stack : '', JSON.stringify(current));
    if (parts.length > 30) break;
  }
  return parts.join('\n');
}

describe('LoginSource', () => {
  it('fills from the secret what the configuration left out', async () => {
    const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD));
    const login = await loginSource({}, aws).login();
    expect(login).toMatchObject({ host: 'db.cluster-abc.eu-west-1.rds.amazonaws.com', port: 3307, user: 'app_user', password: OLD_PASSWORD, database: 'shop' });
    expect(aws.secretRequests).toEqual([{ region: 'eu-west-1', secretId: SECRET_ID }]);
  });

  it('lets explicit configuration beat the secret, even a value equal to the default', async () => {
    const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD));
    const login = await loginSource({ DB_HOST: 'proxy.internal', DB_PORT: '3306', DB_USER: 'reporting', DB_NAME: 'reports' }, aws).login();
    expect(login).toMatchObject({ host: 'proxy.internal', port: 3306, user: 'reporting', database: 'reports', password: OLD_PASSWORD });
  });

  it('fetches the secret once for many logins', async () => {
    const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD));
    const source = loginSource({}, aws);
    await Promise.all([source.login(), source.login()]);
    await source.login();
    expect(aws.secretRequests).toHaveLength(1);
  });

  it('never shows the text of a secret that is not JSON', async () => {
    const aws = new FakeAwsServices({ text: OLD_PASSWORD });
    const err: unknown = await loginSource({}, aws).login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbSwitchError);
    expect(err).toMatchObject({ code: 'ECONFIG' });
    expect((err as Error).message).toContain(SECRET_ID);
    expect((err as Error).message).toContain('DB_SECRET_ID');
    expect(everything(err)).not.toContain(OLD_PASSWORD);
  });

  it('never shows the text of a secret that is JSON but not an object', async () => {
    const aws = new FakeAwsServices({ text: JSON.stringify([OLD_PASSWORD]) });
    const err: unknown = await loginSource({}, aws).login().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONFIG' });
    expect(everything(err)).not.toContain(OLD_PASSWORD);
  });

  it('says which setting is missing when neither the configuration nor the secret has a user', async () => {
    const aws = new FakeAwsServices(secretJson({ password: OLD_PASSWORD }));
    await expect(loginSource({}, aws).login()).rejects.toMatchObject({ code: 'ECONFIG', message: expect.stringContaining('DB_USER') as string });
  });

  it('does not keep a failed fetch: the next login asks Secrets Manager again', async () => {
    const aws = new FakeAwsServices({ error: new Error('connect ETIMEDOUT secretsmanager.eu-west-1.amazonaws.com') }, rdsSecret(OLD_PASSWORD));
    const source = loginSource({}, aws);
    await expect(source.login()).rejects.toMatchObject({ code: 'EAUTH', message: expect.stringContaining('DB_SECRET_ID') as string });
    await expect(source.login()).resolves.toMatchObject({ password: OLD_PASSWORD });
    expect(aws.secretRequests).toHaveLength(2);
  });

  describe('connect() after "Access denied"', () => {
    const denied = (): DbSwitchError => new DbSwitchError('EAUTH', "the server at db:3306 refused user 'app_user': Access denied");

    it('fetches the secret again once and retries once with the rotated password', async () => {
      const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD), rdsSecret(NEW_PASSWORD));
      const source = loginSource({}, aws);
      await source.login(); // the old password is cached
      const tried: (string | undefined)[] = [];
      const result = await source.connect((login: Login) => {
        tried.push(login.password);
        return login.password === NEW_PASSWORD ? Promise.resolve('connected') : Promise.reject(denied());
      });
      expect(result).toBe('connected');
      expect(tried).toEqual([OLD_PASSWORD, NEW_PASSWORD]);
      expect(aws.secretRequests).toHaveLength(2);
    });

    it('does not retry when the secret did not change', async () => {
      const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD));
      const source = loginSource({}, aws);
      let attempts = 0;
      const err = denied();
      await expect(
        source.connect(() => {
          attempts++;
          return Promise.reject(err);
        }),
      ).rejects.toBe(err);
      expect(attempts).toBe(1);
      expect(aws.secretRequests).toHaveLength(2);
    });

    it('retries only once, even when the password keeps changing', async () => {
      const aws = new FakeAwsServices(rdsSecret('one'), rdsSecret('two'), rdsSecret('three'));
      const source = loginSource({}, aws);
      let attempts = 0;
      await expect(
        source.connect(() => {
          attempts++;
          return Promise.reject(denied());
        }),
      ).rejects.toMatchObject({ code: 'EAUTH' });
      expect(attempts).toBe(2);
      expect(aws.secretRequests).toHaveLength(2);
    });

    it('does not refetch for errors other than EAUTH, nor without a secret', async () => {
      const aws = new FakeAwsServices(rdsSecret(OLD_PASSWORD));
      const source = loginSource({}, aws);
      await expect(source.connect(() => Promise.reject(new DbSwitchError('ECONNECT', 'refused')))).rejects.toMatchObject({ code: 'ECONNECT' });
      expect(aws.secretRequests).toHaveLength(1);

      const { config, sources } = explainConfig({ env: { DB_USER: 'app', DB_PASSWORD: 'pw' }, cwd: mkdtempSync(join(tmpdir(), 'dbswitch-login-')) });
      const plain = new LoginSource(config, aws, pino({ level: 'silent' }), sources);
      let attempts = 0;
      await expect(
        plain.connect(() => {
          attempts++;
          return Promise.reject(denied());
        }),
      ).rejects.toMatchObject({ code: 'EAUTH' });
      expect(attempts).toBe(1);
      expect(aws.secretRequests).toHaveLength(1);
    });
  });
});
