import { Controller, Get } from '@nestjs/common';
import { Db, type PoolStats } from 'dbswitch';

/** The Db itself is a singleton: inject it by its class, for work outside a request's session. */
@Controller('health')
export class HealthController {
  constructor(private readonly db: Db) {}

  @Get()
  async health(): Promise<{ database: 'up'; pool: PoolStats }> {
    await this.db.withSession((s) => s.query('SELECT 1'));
    return { database: 'up', pool: this.db.stats };
  }
}
