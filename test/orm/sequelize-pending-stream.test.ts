// The pieces under dbswitch/mysql2's createConnection (what Sequelize calls), with fakes: the
// pending stream mysql2 is given before the transport exists, the move onto the real stream, and
// what is kept of the ORM's options.
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDriverConnection, moveToStream } from '../../src/driver/mysql2.js';
import { PendingStream } from '../../src/integrations/mysql2/pending-stream.js';
import { connectionRequest } from '../../src/integrations/mysql2/orm-options.js';

/** A duplex whose writes are recorded and whose reads the test pushes. */
function fakeSocket(): Duplex & { written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {
      // The test pushes.
    },
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  }) as Duplex & { written: Buffer[] };
  socket.written = written;
  return socket;
}

/** A server's ERR packet as the first packet (what "Too many connections" looks like). */
function errPacket(code: number, message: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0xff, code & 0xff, code >> 8]), Buffer.from(`#HY000${message}`)]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, 0]), payload]);
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PendingStream and moveToStream (mysql2 made before its transport exists)', () => {
  it('keeps what is written until handed over, then the real stream gets it', () => {
    const pending = new PendingStream();
    pending.write('early');
    const socket = fakeSocket();
    pending.handOver(socket);
    expect(socket.written.map(String)).toEqual(['early']);
    expect(pending.destroyed).toBe(true);
  });

  it('a transport that cannot open reaches the connection as its error', async () => {
    const pending = new PendingStream();
    const connection = createDriverConnection({ stream: pending, connectTimeout: 0 });
    const errors: unknown[] = [];
    connection.on('error', (err) => errors.push((err as Error).message));
    pending.fail(new Error('the bastion refused the forward'));
    await tick();
    expect(errors).toEqual(['the bastion refused the forward']);
  });

  it('after the move, mysql2 reads from the real stream: the first packet of the server reaches it, nothing stays on the pending one', async () => {
    const pending = new PendingStream();
    const connection = createDriverConnection({ stream: pending, connectTimeout: 0 });
    const errors: { code: string | undefined; message: string }[] = [];
    connection.on('error', (err: Error & { code?: string }) => errors.push({ code: err.code, message: err.message }));
    const socket = fakeSocket();
    moveToStream(connection, pending, socket);
    pending.handOver(socket);
    expect(['data', 'end', 'close', 'error'].map((event) => pending.listenerCount(event))).toEqual([0, 0, 0, 0]);
    socket.push(errPacket(1040, 'Too many connections'));
    await tick();
    expect(errors[0]).toMatchObject({ code: 'ER_CON_COUNT_ERROR', message: 'Too many connections' });
    connection.destroy();
  });
});

describe("createConnection's options (Sequelize's connection config)", () => {
  it("drops the route and credentials Sequelize fills in itself, and keeps the ORM's own options", () => {
    const typeCast = (): unknown => undefined;
    const request = connectionRequest({
      host: 'localhost',
      port: 3306,
      user: 'root',
      password: 'from-the-orm',
      ssl: { rejectUnauthorized: false },
      connectTimeout: 100,
      database: 'shop',
      flags: '-FOUND_ROWS',
      timezone: '+00:00',
      typeCast,
      bigNumberStrings: false,
      supportBigNumbers: true,
    });
    expect(request).toEqual({
      database: 'shop',
      charset: undefined,
      driverOptions: { flags: '-FOUND_ROWS', timezone: '+00:00', typeCast, bigNumberStrings: false, supportBigNumbers: true },
    });
  });

  it('reads a mysql:// URL as mysql2 does, keeping only what is not the route', () => {
    expect(connectionRequest('mysql://someone:secret@elsewhere:3307/shop?dateStrings=true')).toEqual({
      database: 'shop',
      charset: undefined,
      driverOptions: { dateStrings: true },
    });
  });
});
