import { createDb } from '../db/create-db.js';
import type { Db } from '../db/db.js';
import type { CliIo } from './cli-io.js';
import { cliLogger } from './cli-logger.js';

/** The Db of this environment, logging as plain text lines on stderr (never JSON amid human output). */
export async function openDb(io: CliIo): Promise<Db> {
  return createDb({
    env: io.env,
    cwd: io.cwd,
    logger: cliLogger(io.stderr, io.env),
    ...(io.configure === undefined ? {} : { configure: io.configure }),
  });
}
