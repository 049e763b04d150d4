import { boolean, integer, oneOf, sshFingerprint, text, type Format } from './formats.js';
import { AUTH_METHODS, DB_TYPES, HOST_KEY_CHECKING, LOG_LEVELS, TLS_MODES } from './modes.js';

/** One setting: its env var, default, check, and whether its value is a secret. */
export interface SettingSchema {
  readonly doc: string;
  readonly env: string;
  /** `null` means unset; `db.tls` and `db.auth` resolve it per `db.type` (see resolve-defaults.ts). */
  readonly default: string | number | boolean | null;
  readonly format: Format;
  readonly sensitive?: true;
}

const optionalText = text({ optional: true });
const MAX_MS = 24 * 60 * 60 * 1000;
const port = integer(1, 65535);

/**
 * The whole configuration of dbswitch, for every provider, as one convict schema.
 * Env names are a public contract (see DESIGN.md); units are in the key names.
 */
export const schema = {
  db: {
    type: { doc: 'How to reach the database: basic, aws or ssh.', env: 'DB_TYPE', default: 'basic', format: oneOf(DB_TYPES) },
    host: { doc: 'Database endpoint; for ssh, as the bastion sees it.', env: 'DB_HOST', default: '127.0.0.1', format: text({ optional: false }) },
    port: { doc: 'Database port.', env: 'DB_PORT', default: 3306, format: port },
    user: { doc: 'Database user (required unless the secret provides it).', env: 'DB_USER', default: null, format: optionalText },
    password: { doc: 'Password for basic and ssh.', env: 'DB_PASSWORD', default: null, format: optionalText, sensitive: true },
    database: { doc: 'Default database (schema).', env: 'DB_NAME', default: null, format: optionalText },
    socketPath: { doc: 'basic only: connect through this unix socket instead of TCP.', env: 'DB_SOCKET', default: null, format: optionalText },
    charset: { doc: 'Connection character set.', env: 'DB_CHARSET', default: 'utf8mb4', format: text({ optional: false }) },
    tls: { doc: 'TLS policy. Default: disabled; aws: verify-full (not lower).', env: 'DB_TLS', default: null, format: nullable(oneOf(TLS_MODES)) },
    tlsCaPath: { doc: 'PEM bundle of the CAs to trust. Default: the system CAs; aws: the RDS CA set.', env: 'DB_TLS_CA', default: null, format: optionalText },
    auth: { doc: 'password or iam. Default: password; aws: iam.', env: 'DB_AUTH', default: null, format: nullable(oneOf(AUTH_METHODS)) },
    secretId: { doc: 'AWS Secrets Manager secret with username, password, host, port, dbname.', env: 'DB_SECRET_ID', default: null, format: optionalText },
    connectTimeoutMs: { doc: 'Time allowed to open one connection (TCP/TLS/auth), ms. Default 10000.', env: 'DB_CONNECT_TIMEOUT_MS', default: 10_000, format: integer(1, MAX_MS, ' ms') },
  },
  aws: {
    region: { doc: 'AWS region (required for aws).', env: 'AWS_REGION', default: null, format: optionalText },
  },
  pool: {
    max: { doc: 'Most connections open at once. Default 10.', env: 'DB_POOL_MAX', default: 10, format: integer(1, 10_000) },
    acquireTimeoutMs: { doc: 'How long a session waits for a free connection, ms. Default 10000.', env: 'DB_POOL_ACQUIRE_TIMEOUT_MS', default: 10_000, format: integer(1, MAX_MS, ' ms') },
    idleTimeoutMs: { doc: 'Close connections idle this long, ms; 0 keeps them. Default 60000.', env: 'DB_POOL_IDLE_TIMEOUT_MS', default: 60_000, format: integer(0, MAX_MS, ' ms') },
    maxLifetimeMs: { doc: "Replace connections older than this (with jitter, kept below the server's wait_timeout), ms; 0: no limit. Default 1800000.", env: 'DB_POOL_MAX_LIFETIME_MS', default: 1_800_000, format: integer(0, MAX_MS, ' ms') },
    pingAfterIdleMs: { doc: 'Ping a connection idle longer than this before handing it out, ms. Default 5000.', env: 'DB_POOL_PING_AFTER_IDLE_MS', default: 5_000, format: integer(0, MAX_MS, ' ms') },
    lingerMs: { doc: 'After the last session is released, keep idle connections (and the tunnel) this long, ms. Default 10000.', env: 'DB_LINGER_MS', default: 10_000, format: integer(0, MAX_MS, ' ms') },
    resetOnRelease: { doc: 'Reset session state (COM_RESET_CONNECTION) when a session is released. Default false.', env: 'DB_POOL_RESET_ON_RELEASE', default: false, format: boolean },
    closeTimeoutMs: { doc: 'How long close() waits for sessions in flight before closing anyway, ms. Default 10000.', env: 'DB_POOL_CLOSE_TIMEOUT_MS', default: 10_000, format: integer(0, MAX_MS, ' ms') },
  },
  ssh: {
    host: { doc: 'Bastion host.', env: 'SSH_HOST', default: null, format: optionalText },
    port: { doc: 'Bastion SSH port. Default 22.', env: 'SSH_PORT', default: 22, format: port },
    user: { doc: 'Bastion user.', env: 'SSH_USER', default: null, format: optionalText },
    privateKeyPath: { doc: 'Private key file.', env: 'SSH_PRIVATE_KEY_PATH', default: null, format: optionalText },
    privateKey: { doc: 'Private key, inline PEM/OpenSSH text.', env: 'SSH_PRIVATE_KEY', default: null, format: optionalText, sensitive: true },
    passphrase: { doc: 'Passphrase of the private key.', env: 'SSH_PASSPHRASE', default: null, format: optionalText, sensitive: true },
    agentSocket: { doc: 'SSH agent socket.', env: 'SSH_AUTH_SOCK', default: null, format: optionalText },
    knownHostsPath: { doc: 'known_hosts file. Default ~/.ssh/known_hosts.', env: 'SSH_KNOWN_HOSTS', default: null, format: optionalText },
    hostKeyFingerprint: { doc: 'Pinned host key, SHA256:... as ssh-keygen -lf prints it.', env: 'SSH_HOST_KEY_FINGERPRINT', default: null, format: sshFingerprint },
    strictHostKeyChecking: { doc: 'yes, accept-new or no. Default yes.', env: 'SSH_STRICT_HOST_KEY_CHECKING', default: 'yes', format: oneOf(HOST_KEY_CHECKING) },
    localPort: { doc: 'Local port for `dbswitch tunnel`/`exec`; 0: ephemeral. Default 0.', env: 'SSH_LOCAL_PORT', default: 0, format: integer(0, 65535) },
    keepaliveIntervalMs: { doc: 'SSH keepalive interval, ms; 0: off. Default 15000.', env: 'SSH_KEEPALIVE_INTERVAL_MS', default: 15_000, format: integer(0, MAX_MS, ' ms') },
    ec2InstanceId: { doc: 'Push an ephemeral key with EC2 Instance Connect to this instance before each connect.', env: 'SSH_EC2_INSTANCE_ID', default: null, format: optionalText },
  },
  log: {
    level: { doc: 'pino log level. Default info.', env: 'LOG_LEVEL', default: 'info', format: oneOf(LOG_LEVELS) },
    queries: { doc: 'Log each statement (never its parameter values). Default false.', env: 'DB_LOG_QUERIES', default: false, format: boolean },
  },
} as const satisfies Record<string, Record<string, SettingSchema>>;

export type Schema = typeof schema;
export type Section = keyof Schema;

/** A setting with its dotted key (`db.port`), for iteration. */
export interface SettingEntry extends SettingSchema {
  readonly key: string;
  readonly section: Section;
  readonly name: string;
}

/** Every setting in schema order. */
export const settings: readonly SettingEntry[] = Object.entries(schema).flatMap(([section, keys]) =>
  Object.entries(keys).map(([name, setting]: [string, SettingSchema]) => ({
    ...setting,
    key: `${section}.${name}`,
    section: section as Section,
    name,
  })),
);

/** Looks a setting up by dotted key. */
export function settingFor(key: string): SettingEntry | undefined {
  return settings.find((s) => s.key === key);
}

function nullable(format: Format): Format {
  return (value) => {
    if (value !== null) format(value);
  };
}
