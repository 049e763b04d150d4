import { Controller, Get, Post, Query } from '@nestjs/common';
import { DbSession, type RowDataPacket } from 'dbswitch';
import { InjectDbSession } from 'dbswitch/nestjs';

/**
 * One DbSession per request: it borrows a connection on its first statement and gives it back
 * once the response is sent. If the client goes away first, the statement still running is
 * cancelled on the server (try /slow with curl and Ctrl-C).
 */
@Controller()
export class ServerController {
  constructor(@InjectDbSession() private readonly db: DbSession) {}

  @Get('whoami')
  async whoami(): Promise<RowDataPacket | undefined> {
    const [rows] = await this.db.query<RowDataPacket[]>(
      'SELECT CURRENT_USER() AS user, CONNECTION_ID() AS connection, VERSION() AS version, NOW() AS now',
    );
    return rows[0];
  }

  @Get('slow')
  async slow(@Query('seconds') seconds = '3'): Promise<{ slept: number }> {
    await this.db.query('SELECT SLEEP(?)', [Number(seconds)]);
    return { slept: Number(seconds) };
  }

  @Post('transfer')
  async transfer(): Promise<RowDataPacket[]> {
    // Committed when the callback resolves, rolled back when it throws.
    return this.db.transaction(async (tx) => {
      await tx.query('CREATE TEMPORARY TABLE account (id INT PRIMARY KEY, balance INT)');
      await tx.query('INSERT INTO account VALUES (1, 100), (2, 0)');
      await tx.execute('UPDATE account SET balance = balance - ? WHERE id = ?', [10, 1]);
      await tx.execute('UPDATE account SET balance = balance + ? WHERE id = ?', [10, 2]);
      const [rows] = await tx.query<RowDataPacket[]>('SELECT id, balance FROM account ORDER BY id');
      return rows;
    });
  }
}
