import type { Container } from 'inversify';
import { createContainer } from './container/create-container.js';
import { explainConfig, type LoadConfigOptions } from './config/load-config.js';
import { Db } from './db.js';
import type { Logger } from './logging/create-logger.js';

/** Options of {@link createDb}: where the configuration comes from, plus optional overrides. */
export interface CreateDbOptions extends LoadConfigOptions {
  /** A pino logger of yours. Default: pino to stderr at `LOG_LEVEL`. */
  readonly logger?: Logger;
  /** Changes the container before the Db is made, e.g. to rebind `DbProvider`. */
  readonly configure?: (container: Container) => void;
}

/**
 * Reads and validates the configuration, builds the container and returns its Db. Nothing
 * connects until the first statement of the first session.
 *
 * @example
 * const db = await createDb();                          // process.env, config/, .env
 * const test = await createDb({ env: { DB_USER: 'app', DB_PASSWORD: 'secret' } });
 */
export function createDb(options: CreateDbOptions = {}): Promise<Db> {
  return Promise.resolve().then(() => {
    const { config, sources } = explainConfig(options);
    const container = createContainer(config, options.logger, sources);
    options.configure?.(container);
    return container.get(Db);
  });
}
