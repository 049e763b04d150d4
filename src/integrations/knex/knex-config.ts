import type { Knex } from 'knex';
import { DbSwitchError } from '../../errors.js';
import { dbswitchKnexClient, type KnexDbSource } from './dbswitch-knex-client.js';

/** What an application may add to the knex configuration: anything but the connection itself. */
export type KnexExtraConfig = Omit<Knex.Config, 'client' | 'dialect' | 'connection' | 'connectionPool'>;

/**
 * The knex configuration for a Db: knex's own mysql2 dialect, with every connection lent by
 * `db.pool()` (see {@link dbswitchKnexClient}), plus `extra` (migrations, seeds, pool.afterCreate,
 * postProcessResponse, ...). `pool.afterCreate` runs again on a connection dbswitch reset; prefer
 * DB_INIT_SQL for settings. `knex.destroy()` leaves the Db open: close it with `db.close()`.
 *
 * @example
 * import knex from 'knex';
 * import { createDb } from 'dbswitch';
 * import { knexConfig } from 'dbswitch/knex';
 * const db = await createDb();
 * const k = knex(knexConfig(db));
 * const users = await k('users').where({ active: true });
 * await k.destroy(); await db.close();
 *
 * @example
 * // knexfile.mjs: `npx knex migrate:latest` (or `dbswitch exec -- npx knex migrate:latest`)
 * export default async () => knexConfig(await createDb(), { migrations: { directory: './migrations' } });
 */
export function knexConfig(db: KnexDbSource, extra: KnexExtraConfig = {}): Knex.Config {
  const given = extra as Knex.Config;
  for (const key of ['client', 'dialect', 'connection', 'connectionPool'] as const) {
    if (given[key] !== undefined) {
      throw new DbSwitchError('EUSAGE', `knexConfig(db, extra): extra.${key} is not allowed; dbswitch's pool provides the connections (DB_* settings)`);
    }
  }
  return { ...extra, client: dbswitchKnexClient(db) };
}
