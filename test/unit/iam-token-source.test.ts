import { describe, expect, it } from 'vitest';
import type { AwsCredentials, AwsServices, RdsTokenRequest } from '../../src/aws/aws-services.js';
import { IamTokenSource, tokenExpiry } from '../../src/credentials/iam-token-source.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** A signer whose tokens look like RDS's: valid 900 s from the (fake) clock. */
function fakeAws(clock: { now: number }, expiration?: () => Date): AwsServices & { signed: RdsTokenRequest[] } {
  const signed: RdsTokenRequest[] = [];
  return {
    signed,
    credentials: () => Promise.resolve<AwsCredentials>({ accessKeyId: 'AKID', secretAccessKey: 'x', ...(expiration === undefined ? {} : { expiration: expiration() }) }),
    signRdsToken(request) {
      signed.push(request);
      const date = new Date(clock.now).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      return Promise.resolve(`${request.hostname}:${request.port}/?Action=connect&X-Amz-Date=${date}&X-Amz-Expires=900&n=${signed.length}`);
    },
    getSecret: () => Promise.reject(new Error('unused')),
    instanceConnect: () => ({ sendSshPublicKey: () => Promise.reject(new Error('unused')) }),
  };
}

const endpoint = { hostname: 'db.example.eu-west-1.rds.amazonaws.com', port: 3306, username: 'app', region: 'eu-west-1' };

describe('IamTokenSource', () => {
  it('reads a token’s expiry from X-Amz-Date and X-Amz-Expires', () => {
    expect(tokenExpiry('h:1/?X-Amz-Date=20261121T120000Z&X-Amz-Expires=900')).toBe(T0 + 900_000);
    expect(tokenExpiry('nonsense')).toBeUndefined();
  });

  it('reuses a token for 15 minutes less a one-minute margin, then signs a new one', async () => {
    const clock = { now: T0 };
    const aws = fakeAws(clock);
    const tokens = new IamTokenSource(aws, endpoint, () => clock.now);
    const first = await tokens.token();
    clock.now = T0 + 13 * 60_000;
    expect(await tokens.token()).toBe(first);
    clock.now = T0 + 14 * 60_000 + 1;
    expect(await tokens.token()).not.toBe(first);
    expect(aws.signed).toHaveLength(2);
    expect(tokens.report).toMatchObject({ signedFor: `${endpoint.hostname}:3306`, user: 'app', expiresAt: new Date(T0 + 14 * 60_000 + 900_000) });
  });

  it('never reuses a token past the expiry of the credentials that signed it', async () => {
    const clock = { now: T0 };
    const aws = fakeAws(clock, () => new Date(clock.now + 5 * 60_000));
    const tokens = new IamTokenSource(aws, endpoint, () => clock.now);
    const first = await tokens.token();
    expect(tokens.report?.expiresAt).toEqual(new Date(T0 + 5 * 60_000));
    clock.now = T0 + 4 * 60_000;
    expect(await tokens.token()).toBe(first);
    clock.now = T0 + 4 * 60_000 + 31_000;
    expect(await tokens.token()).not.toBe(first);
  });

  it('shares one signing between concurrent callers', async () => {
    const clock = { now: T0 };
    const aws = fakeAws(clock);
    const tokens = new IamTokenSource(aws, endpoint, () => clock.now);
    const all = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);
    expect(new Set(all).size).toBe(1);
    expect(aws.signed).toHaveLength(1);
    expect(aws.signed[0]).toMatchObject(endpoint);
  });
});
