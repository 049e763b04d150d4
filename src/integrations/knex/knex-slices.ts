/**
 * The slice of knex that dbswitch/knex builds on, in one place, so a knex upgrade touches one
 * file. Checked against knex 3.3.0. Knex's dialect classes carry no types of their own; what is
 * used of its mysql2 client (`knex/lib/dialects/mysql2`, a stable path since knex 0.x):
 * - `config` (what the application passed to `knex(...)`), `connectionSettings` (read by
 *   `client.database()`), `logger`;
 * - `acquireConnection` / `releaseConnection` / `destroy` / `initializePool` / `cancelQuery`,
 *   which the client below replaces so that knex never opens a connection or a tarn pool;
 * - `checkVersion(connection)` (knex 3.3+, optional): MySQL or MariaDB, and which version.
 */
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { DbSwitchError } from '../../errors.js';

/** What knex's mysql2 client instance offers the subclass. */
export interface Mysql2ClientBase {
  readonly config: Knex.Config;
  connectionSettings: object;
  readonly logger: { warn(message: string): void };
  /** knex 3.3+: reads `select version()` once and remembers MySQL or MariaDB. */
  checkVersion?: (connection: unknown) => Promise<unknown>;
}

export type Mysql2ClientClass = abstract new (config: Knex.Config) => Mysql2ClientBase;

const requireFromHere = createRequire(import.meta.url);
let loaded: Mysql2ClientClass | undefined;

/** knex's own mysql2 client class, from the knex the application installed (a peer dependency). */
export function knexMysql2Client(): Mysql2ClientClass {
  if (loaded !== undefined) return loaded;
  try {
    loaded = requireFromHere('knex/lib/dialects/mysql2/index.js') as Mysql2ClientClass;
  } catch (err) {
    throw new DbSwitchError('EUSAGE', `dbswitch/knex needs knex 3 installed beside dbswitch (npm install knex): ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return loaded;
}
