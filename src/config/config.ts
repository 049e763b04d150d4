import type { FormatValue } from './formats.js';
import type { DbType } from './modes.js';
import type { Schema, Section } from './schema.js';

/**
 * The resolved type of one setting, from its schema entry: what its format admits, with `null`
 * (unset) as `undefined`; a setting with per-`db.type` defaults is never unset.
 */
export type ResolvedValue<S> = S extends { readonly byDbType: Readonly<Record<DbType, infer T>> }
  ? T
  : S extends { readonly format: infer F }
    ? null extends FormatValue<F>
      ? Exclude<FormatValue<F>, null> | undefined
      : FormatValue<F>
    : never;

/**
 * The validated, resolved and frozen configuration, derived from the schema (schema.ts): one
 * section per schema section, one key per setting. Optional settings that are unset are
 * `undefined`; `db.tls` and `db.auth` already hold the per-provider defaults; paths are absolute.
 */
export type DbSwitchConfig = {
  readonly [S in Section]: { readonly [K in keyof Schema[S]]: ResolvedValue<Schema[S][K]> };
};

/** What a config file, or `createDb({ config })`, may set: any subset of the keys; `null` unsets. */
export type DbSwitchConfigInput = {
  readonly [S in keyof DbSwitchConfig]?: { readonly [K in keyof DbSwitchConfig[S]]?: DbSwitchConfig[S][K] | null };
};

/** Where a setting's value came from, as `dbswitch config` shows it. */
export type ConfigSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'code' }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'dotenv'; readonly name: string; readonly path: string };
