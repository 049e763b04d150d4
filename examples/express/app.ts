// An Express 5 application on dbswitch. DB_TYPE (basic, aws or ssh) and the DB_* / SSH_* variables
// decide how it reaches MySQL; the code is the same for each. See README.md.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createDb, type RowDataPacket } from 'dbswitch';
import { dbErrorHandler, dbMiddleware } from 'dbswitch/express';

const db = await createDb(); // reads the environment; nothing connects yet
const app = express();
app.use(dbMiddleware(db)); // req.db: this request's session, released when the response is done

app.get('/greeting/:name', async (req, res) => {
  const [rows] = await req.db.query<RowDataPacket[]>('SELECT CONCAT(?, ?) AS greeting', ['Hello, ', req.params.name]);
  res.json(rows[0]);
});

// A slow report: when the client gives up, the statement is cancelled on the server as well.
app.get('/report', async (req, res) => {
  const [rows] = await req.db.query<RowDataPacket[]>('SELECT SLEEP(5) AS interrupted');
  res.json(rows[0]);
});

// Committed when the callback resolves, rolled back when it throws.
app.post('/transfer', express.json(), async (req, res) => {
  const { from, to, amount } = req.body as { from: number; to: number; amount: number };
  await req.db.transaction(async (tx) => {
    await tx.execute('UPDATE account SET balance = balance - ? WHERE id = ?', [amount, from]);
    const [moved] = await tx.execute<RowDataPacket[]>('SELECT balance FROM account WHERE id = ?', [from]);
    if (Number(moved[0]?.['balance']) < 0) throw new Error('insufficient funds');
    await tx.execute('UPDATE account SET balance = balance + ? WHERE id = ?', [amount, to]);
  });
  res.status(204).end();
});

app.use(dbErrorHandler({ logger: console })); // requests whose client went away end here, quietly

const server = app.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`listening on http://${address}:${port}`);
});
process.once('SIGTERM', () => { server.close(); void db.close(); }); // finish the requests in flight, then exit
