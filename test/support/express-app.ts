// The Express application of test/frameworks/express.test.ts. Not imported by the tests: they
// copy it into the consumer project, compile it there against the published package (as a user
// would) and run it as a child process with the DB_* / SSH_* environment of the provider tested.
//
// stdout: `listening <port>`, one `notice ...` line per request dbErrorHandler ended, and
// `exit {counts}` when the process exits. stderr: whatever Express and dbswitch log.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createDb, type DbSession, type RowDataPacket } from 'dbswitch';
import { dbErrorHandler, dbMiddleware, type SessionSource } from 'dbswitch/express';

const db = await createDb();

/** How the sessions dbMiddleware took ended: release() or abort() called on each, and how often. */
const counts = { sessions: 0, released: 0, aborted: 0, endedTwice: 0, unended: 0 };
const unended = new Set<DbSession>();

/** db.session(), with release() and abort() counted on every session it hands out. */
const counted: SessionSource = {
  async session() {
    const session = await db.session();
    counts.sessions++;
    unended.add(session);
    let ends = 0;
    const ended = (): void => {
      if (++ends > 1) counts.endedTwice++;
      unended.delete(session);
    };
    const release = session.release.bind(session);
    const abort = session.abort.bind(session);
    session.release = () => {
      counts.released++;
      ended();
      return release();
    };
    session.abort = (reason?: unknown) => {
      counts.aborted++;
      ended();
      return abort(reason);
    };
    return session;
  },
};

/** Requests received and not yet answered (or abandoned), by path. */
const inFlight: Record<string, number> = {};

const app = express();
// Before the middleware: no session for it.
app.get('/stats', (_req, res) => {
  res.json({ ...counts, unended: unended.size, pool: db.stats, inFlight });
});
app.use((req, res, next) => {
  inFlight[req.path] = (inFlight[req.path] ?? 0) + 1;
  res.once('close', () => {
    inFlight[req.path] = (inFlight[req.path] ?? 0) - 1;
  });
  next();
});
app.use(dbMiddleware(counted));
app.get('/one', async (req, res) => {
  const [rows] = await req.db.query<RowDataPacket[]>('SELECT 1 AS one');
  res.json(rows[0]);
});
app.get('/sleep', async (req, res) => {
  const [rows] = await req.db.query<RowDataPacket[]>('SELECT SLEEP(?) AS slept', [Number(req.query['seconds'])]);
  res.json(rows[0]);
});
// Errors dbErrorHandler must pass on: a SQL error, and an ECANCELLED of the application's own.
app.get('/missing-table', async (req, res) => {
  res.json((await req.db.query('SELECT * FROM no_such_table'))[0]);
});
app.get('/own-cancel', async (req, res) => {
  res.json((await req.db.query({ sql: 'SELECT SLEEP(2)', signal: AbortSignal.timeout(100) }))[0]);
});
app.use(
  dbErrorHandler({
    logger: {
      info: (line) => {
        console.log(`notice ${line}`);
      },
    },
  }),
);

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('exit', () => {
  console.log(`exit ${JSON.stringify({ ...counts, unended: unended.size })}`);
});
// The shutdown one-liner of the README.
process.once('SIGTERM', () => { server.close(); void db.close(); });
