import { describe, expect, it } from 'vitest';
import { capturedLogger, openDb, useDatabase } from '../support/test-db.js';
import { admin } from '../support/test-db.js';

const database = useDatabase('secrets');

describe('secrets stay out of logs and errors', () => {
  it('logs statements without their parameter values, and redacts passwords written into SQL', async () => {
    const { logger, lines } = capturedLogger('trace');
    const db = await openDb(database, { DB_LOG_QUERIES: 'true', DB_LOG_LEVEL: 'trace' }, { logger });
    await db.withSession(async (s) => {
      await s.query('SELECT ? AS card', ['4111-1111-1111-1111']);
      await s.execute('SELECT ? AS token', ['tok_live_abcdef']);
      await s.query("SET @x = PASSWORD('sql-literal-secret')").catch(() => undefined);
    });
    const text = lines.join('\n');
    expect(text).toContain('SELECT ? AS card');
    expect(text).toContain('"parameters":1');
    for (const secret of ['4111-1111-1111-1111', 'tok_live_abcdef', 'sql-literal-secret']) expect(text).not.toContain(secret);
  });

  it('puts no password in any log line or error when a login fails at trace level', async () => {
    const secret = 'Wr0ng-but-still-secret';
    const { logger, lines } = capturedLogger('trace');
    const db = await openDb(database, { DB_PASSWORD: secret, DB_LOG_LEVEL: 'trace', DB_LOG_QUERIES: 'true' }, { logger });
    const err = await db.withSession((s) => s.query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EAUTH' });
    const everything = [lines.join('\n'), String(err), (err as Error).stack, JSON.stringify(err), String((err as Error).cause)].join('\n');
    expect(everything).not.toContain(secret);
  });

  it('puts no password in the error of a broken connection', async () => {
    const { logger, lines } = capturedLogger('trace');
    const db = await openDb(database, { DB_LOG_LEVEL: 'trace' }, { logger });
    const err = await db
      .withSession(async (s) => {
        const conn = await s.connect();
        const outcome = s.query('SELECT SLEEP(5)').then(() => undefined, (e: unknown) => e);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await admin(`KILL CONNECTION ${conn.threadId}`);
        return outcome;
      });
    expect(err).toMatchObject({ code: 'ECONNECTION_LOST' });
    const password = db.config.db.password ?? '';
    expect(password).not.toBe('');
    expect([lines.join('\n'), String(err), (err as Error).stack, JSON.stringify(err)].join('\n')).not.toContain(password);
  });
});
