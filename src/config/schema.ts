import { boolean, integer, oneOf, optional, retired, sshFingerprint, text, type Format } from './formats.js';
import { AUTH_METHODS, DB_TYPES, HOST_KEY_CHECKING, LOG_LEVELS, RESET_MODES, TLS_MODES, type DbType } from './modes.js';

/**
 * One setting: its env var, default, check, and whether its value is a secret. `T` is what the
 * check admits; `null` in it means the setting may be unset.
 */
export interface SettingSchema<T = unknown> {
  /** What it does, with its unit and default (`dbswitch config` and the docs show it). */
  readonly doc: string;
  /** The environment variable; a public contract (DESIGN.md). */
  readonly env: string;
  /** The value when nothing sets it; `null` means unset. */
  readonly default: T;
  readonly format: Format<T>;
  /** Never shown: masked by `dbswitch config`, left out of every message. */
  readonly sensitive?: true;
}

/** A setting left unset (`null`) by default whose resolved value depends on `db.type`. */
export interface PerDbTypeSetting<T> extends SettingSchema<T | null> {
  readonly default: null;
  readonly byDbType: Readonly<Record<DbType, T>>;
}

// The helpers make TypeScript take each setting's type from its format (NoInfer: not from the
// default, which would widen 'basic' to string) and check that the default is such a value.
type Declared<S, T> = Omit<S, 'default' | 'byDbType'> & { readonly default: NoInfer<T> };
function setting<T>(declared: Declared<SettingSchema<T>, T>): SettingSchema<T> {
  return declared;
}
function perDbType<T>(declared: Declared<PerDbTypeSetting<T>, null> & { readonly byDbType: Readonly<Record<DbType, NoInfer<T>>> }): PerDbTypeSetting<T> {
  return declared;
}

const MAX_MS = 24 * 60 * 60 * 1000;
const port = integer(1, 65535);
const ms = (min: number): Format<number> => integer(min, MAX_MS, ' ms');
const optionalText = optional(text);

/**
 * The whole configuration of dbswitch, for every provider: the one source of truth for the
 * convict schema, the env names, the messages and the TypeScript type (config.ts).
 * Env names are a public contract (see DESIGN.md); units are in the key names.
 */
export const schema = {
  db: {
    type: setting({ doc: 'How to reach the database: basic, aws or ssh. Default basic.', env: 'DB_TYPE', default: 'basic', format: oneOf(DB_TYPES) }),
    host: setting({ doc: 'Database endpoint; for ssh, as the bastion sees it. Default 127.0.0.1.', env: 'DB_HOST', default: '127.0.0.1', format: text }),
    port: setting({ doc: 'Database port. Default 3306.', env: 'DB_PORT', default: 3306, format: port }),
    user: setting({ doc: 'Database user (required unless the secret provides it).', env: 'DB_USER', default: null, format: optionalText }),
    password: setting({ doc: 'Password for basic and ssh.', env: 'DB_PASSWORD', default: null, format: optionalText, sensitive: true }),
    database: setting({ doc: 'Default database (schema).', env: 'DB_NAME', default: null, format: optionalText }),
    socketPath: setting({ doc: 'basic only: connect through this unix socket instead of TCP.', env: 'DB_SOCKET', default: null, format: optionalText }),
    charset: setting({ doc: 'Connection character set. Default utf8mb4.', env: 'DB_CHARSET', default: 'utf8mb4', format: text }),
    tls: perDbType({
      doc: 'TLS policy: disabled, required, verify-ca or verify-full. Default disabled; aws: verify-full (not lower).',
      env: 'DB_TLS',
      default: null,
      format: optional(oneOf(TLS_MODES)),
      byDbType: { basic: 'disabled', aws: 'verify-full', ssh: 'disabled' },
    }),
    tlsCaPath: setting({ doc: 'PEM bundle of the CAs to trust. Default: the system CAs; aws: the RDS CA set.', env: 'DB_TLS_CA', default: null, format: optionalText }),
    auth: perDbType({
      doc: 'password or iam. Default password; aws: iam.',
      env: 'DB_AUTH',
      default: null,
      format: optional(oneOf(AUTH_METHODS)),
      byDbType: { basic: 'password', aws: 'iam', ssh: 'password' },
    }),
    secretId: setting({ doc: 'AWS Secrets Manager secret with username, password, host, port, dbname.', env: 'DB_SECRET_ID', default: null, format: optionalText }),
    initSql: setting({
      doc: "SQL run on every new connection and after every reset, e.g. SET time_zone='+00:00'. Default: none.",
      env: 'DB_INIT_SQL',
      default: null,
      format: optionalText,
    }),
    statementTimeoutMs: setting({
      doc: 'Default timeout of each statement, ms; at the deadline it is killed on the server. 0: none. Default 0.',
      env: 'DB_STATEMENT_TIMEOUT_MS',
      default: 0,
      format: ms(0),
    }),
    connectTimeoutMs: setting({ doc: 'Time allowed to open one connection (TCP/channel, TLS, auth), ms. Default 10000.', env: 'DB_CONNECT_TIMEOUT_MS', default: 10_000, format: ms(1) }),
  },
  aws: {
    region: setting({ doc: 'AWS region (required for aws and DB_AUTH=iam).', env: 'AWS_REGION', default: null, format: optionalText }),
  },
  pool: {
    max: setting({ doc: 'Most connections open at once. Default 10.', env: 'DB_POOL_MAX', default: 10, format: integer(1, 10_000) }),
    acquireTimeoutMs: setting({ doc: 'Total wait for a connection, connect time included, ms. Default 10000.', env: 'DB_POOL_ACQUIRE_TIMEOUT_MS', default: 10_000, format: ms(1) }),
    idleTimeoutMs: setting({ doc: 'Close connections idle this long, ms; 0 keeps them. Default 60000.', env: 'DB_POOL_IDLE_TIMEOUT_MS', default: 60_000, format: ms(0) }),
    maxLifetimeMs: setting({
      doc: "Replace connections older than this (with jitter, kept below the server's wait_timeout), ms; 0: no limit. Default 1800000.",
      env: 'DB_POOL_MAX_LIFETIME_MS',
      default: 1_800_000,
      format: ms(0),
    }),
    pingAfterIdleMs: setting({ doc: 'Ping a connection idle longer than this before handing it out, ms. Default 5000.', env: 'DB_POOL_PING_AFTER_IDLE_MS', default: 5_000, format: ms(0) }),
    lingerMs: setting({ doc: 'After the last session is released, keep idle connections (and the tunnel) this long, ms. Default 10000.', env: 'DB_LINGER_MS', default: 10_000, format: ms(0) }),
    resetOnRelease: setting({
      doc: 'Reset session state on release: auto (only when the session changed variables, temp tables, schema or locks), always, or never. Default auto.',
      env: 'DB_POOL_RESET_ON_RELEASE',
      default: 'auto',
      // true/false were the values before auto existed; say what they became instead of "not one of".
      format: retired(oneOf(RESET_MODES), { true: 'always (or auto, the default)', 1: 'always (or auto, the default)', false: 'never', 0: 'never' }),
    }),
    closeTimeoutMs: setting({ doc: 'How long close() waits for sessions in flight before cancelling them, ms. Default 10000.', env: 'DB_POOL_CLOSE_TIMEOUT_MS', default: 10_000, format: ms(0) }),
  },
  ssh: {
    host: setting({ doc: 'Bastion host.', env: 'SSH_HOST', default: null, format: optionalText }),
    port: setting({ doc: 'Bastion SSH port. Default 22.', env: 'SSH_PORT', default: 22, format: port }),
    user: setting({ doc: 'Bastion user.', env: 'SSH_USER', default: null, format: optionalText }),
    privateKeyPath: setting({ doc: 'Private key file.', env: 'SSH_PRIVATE_KEY_PATH', default: null, format: optionalText }),
    privateKey: setting({ doc: 'Private key, inline PEM/OpenSSH text.', env: 'SSH_PRIVATE_KEY', default: null, format: optionalText, sensitive: true }),
    passphrase: setting({ doc: 'Passphrase of the private key.', env: 'SSH_PASSPHRASE', default: null, format: optionalText, sensitive: true }),
    agentSocket: setting({ doc: 'SSH agent socket.', env: 'SSH_AUTH_SOCK', default: null, format: optionalText }),
    knownHostsPath: setting({ doc: 'known_hosts file. Default ~/.ssh/known_hosts.', env: 'SSH_KNOWN_HOSTS', default: '~/.ssh/known_hosts', format: text }),
    hostKeyFingerprint: setting({ doc: 'Pinned host key, SHA256:... as ssh-keygen -lf prints it.', env: 'SSH_HOST_KEY_FINGERPRINT', default: null, format: optional(sshFingerprint) }),
    strictHostKeyChecking: setting({ doc: 'yes, accept-new or no. Default yes.', env: 'SSH_STRICT_HOST_KEY_CHECKING', default: 'yes', format: oneOf(HOST_KEY_CHECKING) }),
    localPort: setting({ doc: 'Local port for `dbswitch tunnel`/`exec`; 0: ephemeral. Default 0.', env: 'SSH_LOCAL_PORT', default: 0, format: integer(0, 65535) }),
    keepaliveIntervalMs: setting({ doc: 'SSH keepalive interval, ms; 0: off. Default 15000.', env: 'SSH_KEEPALIVE_INTERVAL_MS', default: 15_000, format: ms(0) }),
    ec2InstanceId: setting({ doc: 'Push an ephemeral key with EC2 Instance Connect to this instance before each connect.', env: 'SSH_EC2_INSTANCE_ID', default: null, format: optionalText }),
  },
  log: {
    // Not LOG_LEVEL: that one belongs to the application (and holds winston's levels, say).
    level: setting({ doc: 'pino log level. Default info.', env: 'DB_LOG_LEVEL', default: 'info', format: oneOf(LOG_LEVELS) }),
    queries: setting({ doc: 'Log each statement (never its parameter values). Default false.', env: 'DB_LOG_QUERIES', default: false, format: boolean }),
  },
} satisfies Record<string, Record<string, SettingSchema>>;

export type Schema = typeof schema;
export type Section = keyof Schema;

/** A setting's dotted key, `db.port`. */
export type SettingKey = { [S in Section]: `${S}.${keyof Schema[S] & string}` }[Section];

/** A setting with its dotted key (`db.port`), for iteration. */
export interface SettingEntry extends SettingSchema {
  readonly key: SettingKey;
  readonly section: Section;
  readonly name: string;
}

function isSection(name: string): name is Section {
  return Object.hasOwn(schema, name);
}

/** Every setting in schema order. */
export const settings: readonly SettingEntry[] = Object.entries(schema).flatMap(([section, keys]) =>
  Object.entries(keys).map(([name, declared]: [string, SettingSchema]) => {
    if (!isSection(section)) throw new Error(`dbswitch bug: ${section} is not a section`);
    // Object.entries forgets the key types; each key comes from the schema itself.
    const key = `${section}.${name}` as SettingKey;
    return { ...declared, key, section, name };
  }),
);

const byKey: ReadonlyMap<string, SettingEntry> = new Map(settings.map((entry) => [entry.key, entry]));

/** Looks a setting up by dotted key. */
export function settingFor(key: string): SettingEntry | undefined {
  return byKey.get(key);
}

/** The setting of a key known to exist. */
export function settingOf(key: SettingKey): SettingEntry {
  const entry = byKey.get(key);
  if (entry === undefined) throw new Error(`dbswitch bug: no setting ${key}`);
  return entry;
}

/** The env var of a setting, for messages that tell what to set: `envName('db.type')` is `DB_TYPE`. */
export function envName(key: SettingKey): string {
  return settingOf(key).env;
}

/** The section names, in schema order. */
export const sections: readonly Section[] = Object.keys(schema).filter(isSection);
