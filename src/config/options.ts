import type { DbSwitchConfigInput } from './config.js';

/** Where the configuration is read from. Every field is optional; nothing is read before the call. */
export interface LoadConfigOptions {
  /** Environment variables. Default: `process.env`. Empty values count as unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder holding `config/` and `.env`. Default: `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Config files to merge, in order, instead of `config/dbswitch.json`,
   * `config/dbswitch.<NODE_ENV>.json` and `DB_CONFIG_FILE`. Each must exist.
   */
  readonly files?: readonly string[];
  /** Settings from code, above the files and below the environment. */
  readonly config?: DbSwitchConfigInput;
}
