import { createDb, type CreateDbOptions } from '../../db/create-db.js';
import type { Db } from '../../db/db.js';

/** The Db of an execution environment: not made yet, being made (invocations wait), or made. */
type LazyDbPhase = { readonly name: 'unmade' } | { readonly name: 'making'; readonly db: Promise<Db> } | { readonly name: 'made'; readonly db: Db };

/**
 * A Db made on first use and kept: memoized, so concurrent first uses share one `createDb()`;
 * retryable, so a failure (a missing setting, say) reaches the invocation that asked and the
 * next invocation tries again instead of inheriting a rejected promise for the life of the
 * environment. Nothing is read or made before the first `get()`.
 */
export class LazyDb {
  readonly #options: CreateDbOptions;
  #phase: LazyDbPhase = { name: 'unmade' };

  constructor(options: CreateDbOptions) {
    this.#options = options;
  }

  get(): Promise<Db> {
    const phase = this.#phase;
    switch (phase.name) {
      case 'made':
        return Promise.resolve(phase.db);
      case 'making':
        return phase.db;
      case 'unmade': {
        const db = createDb(this.#options).then(
          (made) => {
            this.#phase = { name: 'made', db: made };
            return made;
          },
          (err: unknown) => {
            this.#phase = { name: 'unmade' };
            throw err;
          },
        );
        this.#phase = { name: 'making', db };
        return db;
      }
    }
  }
}
