import type { ConfigSource, DbSwitchConfig } from '../../config/config.js';
import { explainConfig } from '../../config/load-config.js';
import { describeUnknownVariable, type UnknownVariable } from '../../config/unknown-variables.js';
import { createContainer } from '../../db/create-container.js';
import type { CreateDbOptions } from '../../db/create-db.js';
import { Db } from '../../db/db.js';
import { DbProvider, type Transport } from '../../db-provider.js';
import { DbSwitchError } from '../../errors.js';
import { createLogger } from '../../logging/create-logger.js';
import { LOGGER, type Logger } from '../../logging/logger.js';
import type { StatementSettings } from '../../driver/mysql2.js';
import { OrmConnectionsProvider } from './orm-provider.js';

/** What a pool or a connection of dbswitch/mysql2 draws on: a Db, and a provider's transports. */
export interface DbHandle {
  /** The configuration (secrets masked where the Db is the application's). */
  readonly config: DbSwitchConfig;
  /** One more pool or connection uses the Db. */
  retain(): void;
  /** One fewer; with none left, a Db of dbswitch/mysql2's own closes after `lingerMs`. Never rejects. */
  release(lingerMs: number): Promise<void>;
  /** The Db, opened on first need. */
  db(): Promise<Db>;
  /** A stream and a login for one new driver connection (createConnection). */
  openTransport(): Promise<Transport>;
}

/** What the pools of an ORM ask of their Db, above the configuration. */
export interface DbRequest {
  readonly database: string | undefined;
  readonly charset: string | undefined;
  /** mysql2 statement options for every connection of the Db (none for createConnection's). */
  readonly statementSettings: StatementSettings;
}

type Opened = { readonly db: Db; readonly provider: DbProvider; readonly logger: Logger };

type OwnedState =
  | { readonly name: 'closed' }
  | { readonly name: 'open'; readonly opened: Promise<Opened>; linger: NodeJS.Timeout | undefined }
  | { readonly name: 'closing'; readonly done: Promise<void> };

/**
 * A Db that dbswitch/mysql2 makes itself (createPool and createConnection of the module, where
 * no Db of the application's is at hand), shared by every pool and connection that asks for the
 * same login settings. The configuration is read at once (so a bad one fails the ORM's call to
 * createPool); the container, the provider and the Db are made on first need; the Db is closed
 * when the last user is done, and made again when a new one comes.
 */
export class OwnedDb implements DbHandle {
  readonly config: DbSwitchConfig;
  readonly #options: CreateDbOptions;
  readonly #statementSettings: StatementSettings;
  readonly #sources: ReadonlyMap<string, ConfigSource>;
  #unknownVariables: readonly UnknownVariable[];
  #state: OwnedState = { name: 'closed' };
  #users = 0;

  constructor(options: CreateDbOptions, overrides: DbRequest) {
    const explained = explainConfig(options);
    this.#options = options;
    this.#statementSettings = overrides.statementSettings;
    // The ORM's database and charset are its business: they beat DB_NAME and DB_CHARSET, as
    // they do on the connections createConnection makes.
    const db = {
      ...explained.config.db,
      ...(overrides.database === undefined ? {} : { database: overrides.database }),
      ...(overrides.charset === undefined ? {} : { charset: overrides.charset }),
    };
    this.config = Object.freeze({ ...explained.config, db: Object.freeze(db) });
    const sources = new Map(explained.sources);
    if (overrides.database !== undefined) sources.set('db.database', { kind: 'code' });
    if (overrides.charset !== undefined) sources.set('db.charset', { kind: 'code' });
    this.#sources = sources;
    this.#unknownVariables = explained.unknownVariables;
  }

  retain(): void {
    this.#users++;
    if (this.#state.name === 'open' && this.#state.linger !== undefined) {
      clearTimeout(this.#state.linger);
      this.#state.linger = undefined;
    }
  }

  release(lingerMs: number): Promise<void> {
    if (this.#users > 0) this.#users--;
    if (this.#users > 0) return Promise.resolve();
    const state = this.#state;
    if (state.name !== 'open') return state.name === 'closing' ? state.done : Promise.resolve();
    if (lingerMs <= 0) return this.#close();
    if (state.linger === undefined) {
      // Unref'd: a linger never keeps a finished script running.
      state.linger = setTimeout(() => {
        void this.#close();
      }, lingerMs).unref();
    }
    return Promise.resolve();
  }

  async db(): Promise<Db> {
    return (await this.#opened()).db;
  }

  /** Closes the Db now (its connections, and the tunnel), whoever still uses it; idempotent. */
  close(): Promise<void> {
    return this.#close();
  }

  async openTransport(): Promise<Transport> {
    const { provider } = await this.#opened();
    return transportFrom(provider, this.config);
  }

  async #opened(): Promise<Opened> {
    // Only for a pool or connection that retained it: one that ended must not open it again.
    if (this.#users === 0) throw new DbSwitchError('ECLOSED', 'this pool of dbswitch/mysql2 has been ended');
    for (;;) {
      const state = this.#state;
      switch (state.name) {
        case 'open':
          return state.opened;
        case 'closing':
          await state.done;
          continue;
        case 'closed': {
          const opened = this.#open();
          this.#state = { name: 'open', opened, linger: undefined };
          // A failed open is not kept: the next call tries again (the bastion may be back).
          opened.catch(() => {
            if (this.#state.name === 'open' && this.#state.opened === opened) this.#state = { name: 'closed' };
          });
          return opened;
        }
      }
    }
  }

  /** What createDb() does, keeping the container: the provider serves createConnection. */
  async #open(): Promise<Opened> {
    const options = this.#options;
    const container = await createContainer(this.config, options.logger ?? createLogger(this.config.log), this.#sources);
    options.configure?.(container);
    const logger = container.get(LOGGER);
    for (const unknown of this.#unknownVariables) logger.warn(describeUnknownVariable(unknown));
    this.#unknownVariables = [];
    const provider = container.get(DbProvider);
    if (Object.keys(this.#statementSettings).length > 0) {
      // The Db serves one ORM's pools: its connections are made as that ORM would make them.
      container.rebind(DbProvider).toConstantValue(new OrmConnectionsProvider(provider, this.#statementSettings));
    }
    return { db: container.get(Db), provider, logger };
  }

  #close(): Promise<void> {
    const state = this.#state;
    if (state.name !== 'open') return state.name === 'closing' ? state.done : Promise.resolve();
    if (state.linger !== undefined) clearTimeout(state.linger);
    const done = state.opened
      .then(
        async ({ db, logger }) => {
          // Nobody awaits a close after the linger: a failure is logged, never left unhandled.
          await db.close().catch((err: unknown) => {
            logger.warn({ err: String(err) }, 'closing the Db of dbswitch/mysql2 failed');
          });
        },
        // It never opened: nothing to close (whoever waited for it got the error).
        () => undefined,
      )
      .finally(() => {
        if (this.#state.name === 'closing' && this.#state.done === done) this.#state = { name: 'closed' };
      });
    this.#state = { name: 'closing', done };
    return done;
  }
}

/**
 * The application's Db (`mysql2Driver(db)`): its pool is shared with the ORM, and it stays open
 * until the application closes it.
 */
export class BoundDb implements DbHandle {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get config(): DbSwitchConfig {
    return this.#db.config;
  }

  retain(): void {
    // The application owns the Db.
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  db(): Promise<Db> {
    return Promise.resolve(this.#db);
  }

  openTransport(): Promise<Transport> {
    // Needs an accessor on Db (see the report: Db#openTransport()); until then only the module's
    // own Db can serve createConnection.
    return Promise.reject(
      new DbSwitchError(
        'EUSAGE',
        'createConnection() of mysql2Driver(db) needs Db#openTransport(), which this version of dbswitch lacks; use the module `dbswitch/mysql2` itself (it reads the same configuration)',
      ),
    );
  }
}

/** The provider's transport, or EUSAGE naming why there is none. */
function transportFrom(provider: DbProvider, config: DbSwitchConfig): Promise<Transport> {
  if (provider.openTransport === undefined) {
    return Promise.reject(
      new DbSwitchError(
        'EUSAGE',
        `the provider for db.type (DB_TYPE) = ${config.db.type} has no openTransport(): dbswitch/mysql2's createConnection (Sequelize) needs one; createPool (TypeORM) and db.pool() do not`,
      ),
    );
  }
  return provider.openTransport();
}
