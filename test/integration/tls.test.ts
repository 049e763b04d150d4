import { TLSSocket } from 'node:tls';
import { streamOf } from '../../src/driver/mysql2.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../../sandbox/certificates.js';
import { openDb, sandbox } from '../support/test-db.js';

interface StatusRow extends RowDataPacket {
  Value: string;
}

async function tlsVersion(overrides: Record<string, string>): Promise<string> {
  const db = await openDb('app', overrides);
  const [[row]] = await db.withSession((s) => s.query<StatusRow[]>("SHOW SESSION STATUS LIKE 'Ssl_version'"));
  return row?.Value ?? '';
}

async function failure(overrides: Record<string, string>): Promise<unknown> {
  return tlsVersion(overrides).catch((err: unknown) => err);
}

let otherCaDir: string;
let otherCaPath: string;

beforeAll(async () => {
  otherCaDir = mkdtempSync(join(tmpdir(), 'dbswitch-other-ca-'));
  otherCaPath = (await makeCertificates(otherCaDir, ['localhost'], 'other-')).caPath;
});

afterAll(() => {
  rmSync(otherCaDir, { recursive: true, force: true });
});

describe('TLS modes against the sandbox (certificate issued for "localhost" by its own CA)', () => {
  it('disabled: plain TCP', async () => {
    expect(await tlsVersion({})).toBe('');
  });

  it('required: encrypted without checking the certificate', async () => {
    expect(await tlsVersion({ DB_TLS: 'required' })).toMatch(/^TLSv1\.[23]$/);
  });

  it('verify-ca: the chain is checked, the name is not', async () => {
    expect(await tlsVersion({ DB_TLS: 'verify-ca', DB_TLS_CA: sandbox().caPath, DB_HOST: '127.0.0.1' })).toMatch(/^TLSv1\.[23]$/);
  });

  it('verify-ca refuses a certificate from another CA', async () => {
    const err = await failure({ DB_TLS: 'verify-ca', DB_TLS_CA: otherCaPath });
    expect(err).toMatchObject({ code: 'ETLS' });
    expect((err as Error).message).toContain('DB_TLS');
  });

  it('verify-ca refuses a private CA that is not in DB_TLS_CA (system CAs only)', async () => {
    expect(await failure({ DB_TLS: 'verify-ca' })).toMatchObject({ code: 'ETLS' });
  });

  it('verify-full: chain and host name both checked', async () => {
    expect(await tlsVersion({ DB_TLS: 'verify-full', DB_TLS_CA: sandbox().caPath, DB_HOST: 'localhost' })).toMatch(/^TLSv1\.[23]$/);
  });

  it('verify-full keeps working for every pooled connection, resumed TLS sessions included', async () => {
    const db = await openDb('app', { DB_TLS: 'verify-full', DB_TLS_CA: sandbox().caPath, DB_HOST: 'localhost' });
    // The first connection's TLS session is kept; the next ones resume it, and a resumed session
    // carries no peer certificate to check the name against (the regression this guards).
    await db.withSession((s) => s.query('SELECT 1'));
    const holder = await db.session();
    await holder.query('SELECT 1');
    const seen = await Promise.all(
      [1, 2, 3, 4].map(() =>
        db.withSession(async (s) => {
          const stream = streamOf(await s.connect());
          const [[row]] = await s.query<StatusRow[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
          return { version: row?.Value, resumed: stream instanceof TLSSocket && stream.isSessionReused() };
        }),
      ),
    );
    await holder.release();
    expect(seen.every((one) => one.version?.startsWith('TLSv1.') === true)).toBe(true);
    expect(seen.some((one) => one.resumed)).toBe(true);
    expect(db.stats.open).toBe(5);
  });

  it('verify-full refuses a certificate issued for another host name, before sending the password', async () => {
    // The certificate names localhost; 127.0.0.1 is the same server under a name it was not issued for.
    const err = await failure({ DB_TLS: 'verify-full', DB_TLS_CA: sandbox().caPath, DB_HOST: '127.0.0.1' });
    expect(err).toMatchObject({ code: 'ETLS' });
    expect((err as Error).message).toMatch(/127\.0\.0\.1/);
    expect((err as Error).message).toContain('DB_HOST');
    // Node's own handshake check (not the post-connect one): no credential was sent yet.
    expect((err as Error).message).toContain("does not match certificate's altnames");
  });
});
