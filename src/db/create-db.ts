import type { Container } from '../container.js';
import { explainConfig } from '../config/load-config.js';
import type { LoadConfigOptions } from '../config/options.js';
import { describeUnknownVariable } from '../config/unknown-variables.js';
import { createContainer } from './create-container.js';
import { Db } from './db.js';
import { createLogger } from '../logging/create-logger.js';
import { LOGGER, type Logger } from '../logging/logger.js';

/** Options of {@link createDb}: where the configuration comes from, plus optional overrides. */
export interface CreateDbOptions extends LoadConfigOptions {
  /** A pino logger of yours. Default: pino to stderr at `DB_LOG_LEVEL` (default info). */
  readonly logger?: Logger;
  /** Changes the container before the Db is made, e.g. to rebind `DbProvider`. */
  readonly configure?: (container: Container) => void;
}

/**
 * Reads and validates the configuration, builds the container and returns its Db. Nothing
 * connects until the first statement of the first session.
 *
 * @example
 * const db = await createDb();                          // process.env, .env, config/dbswitch*.json
 * const test = await createDb({ env: { DB_USER: 'app', DB_PASSWORD: 'secret' } });
 */
export async function createDb(options: CreateDbOptions = {}): Promise<Db> {
  const { config, sources, unknownVariables } = explainConfig(options);
  const container = await createContainer(config, options.logger ?? createLogger(config.log), sources);
  options.configure?.(container);
  // A misspelt variable is silently ignored otherwise: DB_PASWORD, and the default wins.
  const logger = container.get(LOGGER);
  for (const unknown of unknownVariables) logger.warn(describeUnknownVariable(unknown));
  return container.get(Db);
}
