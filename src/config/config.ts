import type { AuthMethod, DbType, HostKeyChecking, LogLevel, TlsMode } from './modes.js';

/**
 * The validated, resolved and frozen configuration. Optional settings that are unset are
 * `undefined`; `db.tls` and `db.auth` already hold the per-provider defaults.
 */
export interface DbSwitchConfig {
  readonly db: {
    readonly type: DbType;
    readonly host: string;
    readonly port: number;
    readonly user: string | undefined;
    readonly password: string | undefined;
    readonly database: string | undefined;
    readonly socketPath: string | undefined;
    readonly charset: string;
    readonly tls: TlsMode;
    readonly tlsCaPath: string | undefined;
    readonly auth: AuthMethod;
    readonly secretId: string | undefined;
    readonly connectTimeoutMs: number;
  };
  readonly aws: {
    readonly region: string | undefined;
  };
  readonly pool: {
    readonly max: number;
    readonly acquireTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly maxLifetimeMs: number;
    readonly pingAfterIdleMs: number;
    readonly lingerMs: number;
    readonly resetOnRelease: boolean;
    readonly closeTimeoutMs: number;
  };
  readonly ssh: {
    readonly host: string | undefined;
    readonly port: number;
    readonly user: string | undefined;
    readonly privateKeyPath: string | undefined;
    readonly privateKey: string | undefined;
    readonly passphrase: string | undefined;
    readonly agentSocket: string | undefined;
    readonly knownHostsPath: string;
    readonly hostKeyFingerprint: string | undefined;
    readonly strictHostKeyChecking: HostKeyChecking;
    readonly localPort: number;
    readonly keepaliveIntervalMs: number;
    readonly ec2InstanceId: string | undefined;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly queries: boolean;
  };
}

/** What a config file, or `createDb({ config })`, may set: any subset of the keys. */
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
