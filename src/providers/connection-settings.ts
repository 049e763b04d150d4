import type { AwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import { schema } from '../config/schema.js';
import { DbSwitchError } from '../errors.js';
import type { Logger } from '../logging/create-logger.js';
import { iamAuthPlugins } from './aws/iam-auth-plugin.js';
import { IamTokenSource } from './aws/iam-token-source.js';

/** Where and as whom one new connection logs in. */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string | undefined;
  /** Set for DB_AUTH=password. */
  readonly password: string | undefined;
  /** Set for DB_AUTH=iam: answers mysql_clear_password with a fresh token, on verified TLS only. */
  readonly authPlugins: ReturnType<typeof iamAuthPlugins> | undefined;
}

/** The fields of an RDS-managed (or hand-made) secret that dbswitch reads. */
interface SecretFields {
  readonly username?: string;
  readonly password?: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

/**
 * The settings of each new connection: the configuration, filled in by the Secrets Manager secret
 * (DB_SECRET_ID) where the configuration left a value out, with IAM tokens when DB_AUTH=iam. The
 * secret is fetched once and cached; after "Access denied" it is fetched again once (rotation).
 */
export class ConnectionSettingsSource {
  readonly #config: DbSwitchConfig;
  readonly #aws: AwsServices;
  readonly #logger: Logger;
  readonly #explicit: (key: string) => boolean;
  #secret: Promise<SecretFields> | undefined;
  #tokens: IamTokenSource | undefined;

  constructor(config: DbSwitchConfig, aws: AwsServices, logger: Logger, sources?: ReadonlyMap<string, ConfigSource>) {
    this.#config = config;
    this.#aws = aws;
    this.#logger = logger;
    // Without sources (a config built by hand), a value equal to the schema default counts as left out.
    this.#explicit = (key) => {
      const source = sources?.get(key);
      if (source !== undefined) return source.kind !== 'default';
      const [section, name] = key.split('.') as ['db', keyof (typeof schema)['db']];
      return (config[section] as Record<string, unknown>)[name] !== schema[section][name].default;
    };
  }

  /** The IAM token source in use, for reports (never the token). */
  get tokens(): IamTokenSource | undefined {
    return this.#tokens;
  }

  async settings(): Promise<ConnectionSettings> {
    const { db, aws } = this.#config;
    const secret = db.secretId === undefined ? {} : await this.#fetchSecret();
    const pick = <T>(key: string, configured: T | undefined, fromSecret: T | undefined): T | undefined =>
      this.#explicit(key) ? configured : (fromSecret ?? configured);
    const host = pick('db.host', db.host, secret.host) ?? db.host;
    const port = pick('db.port', db.port, secret.port) ?? db.port;
    const user = pick('db.user', db.user, secret.username);
    if (user === undefined) {
      throw new DbSwitchError('ECONFIG', `db.user (env DB_USER): not set, and the secret ${db.secretId ?? ''} (DB_SECRET_ID) has no "username"`);
    }
    const database = pick('db.database', db.database, secret.dbname);
    if (db.auth === 'password') {
      return { host, port, user, database, password: pick('db.password', db.password, secret.password), authPlugins: undefined };
    }
    const tokens = this.#tokensFor(host, port, user, aws.region ?? '');
    return { host, port, user, database, password: undefined, authPlugins: iamAuthPlugins(() => tokens.token(), host) };
  }

  /**
   * Settings for a tool outside this process (`dbswitch exec`): the password, or for IAM a
   * fresh token, as a plain password.
   */
  async forClient(): Promise<Omit<ConnectionSettings, 'authPlugins'>> {
    const settings = await this.settings();
    if (settings.authPlugins === undefined || this.#tokens === undefined) return { ...settings };
    return { ...settings, password: await this.#tokens.token() };
  }

  /**
   * The server said "Access denied": if a secret is in play, fetch it again and say whether the
   * next attempt may succeed (the password was rotated). Only once per denial.
   */
  async afterAccessDenied(): Promise<boolean> {
    const { secretId } = this.#config.db;
    if (secretId === undefined || this.#secret === undefined) return false;
    const before = await this.#secret.catch(() => undefined);
    this.#secret = undefined;
    const after = await this.#fetchSecret();
    const changed = JSON.stringify(before) !== JSON.stringify(after);
    this.#logger.info({ secretId, changed }, 'access denied: fetched the secret again');
    return changed;
  }

  #tokensFor(hostname: string, port: number, username: string, region: string): IamTokenSource {
    const current = this.#tokens;
    if (current?.matches(hostname, port, username) === true) return current;
    this.#tokens = new IamTokenSource(this.#aws, { hostname, port, username, region });
    return this.#tokens;
  }

  #fetchSecret(): Promise<SecretFields> {
    const { db, aws } = this.#config;
    const secretId = db.secretId ?? '';
    this.#secret ??= this.#aws.getSecret(aws.region ?? '', secretId).then(
      (text) => parseSecret(text, secretId),
      (err: unknown) => {
        this.#secret = undefined;
        throw new DbSwitchError(
          'EAUTH',
          `cannot read the secret ${secretId} (db.secretId DB_SECRET_ID) from Secrets Manager in ${aws.region ?? '(no AWS_REGION)'}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      },
    );
    return this.#secret;
  }
}

function parseSecret(text: string, secretId: string): SecretFields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The secret's text is not repeated: it may be a bare password.
    throw new DbSwitchError('ECONFIG', `the secret ${secretId} (DB_SECRET_ID) is not JSON; expected {"username", "password", "host", "port", "dbname"}`);
  }
  if (typeof value !== 'object' || value === null) {
    throw new DbSwitchError('ECONFIG', `the secret ${secretId} (DB_SECRET_ID) is not a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const stringField = (name: string): string | undefined => (typeof record[name] === 'string' && record[name] !== '' ? record[name] : undefined);
  const port = typeof record['port'] === 'number' ? record['port'] : typeof record['port'] === 'string' ? Number(record['port']) : undefined;
  return {
    ...optional('username', stringField('username')),
    ...optional('password', stringField('password')),
    ...optional('host', stringField('host')),
    ...(port === undefined || !Number.isInteger(port) ? {} : { port }),
    ...optional('dbname', stringField('dbname')),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
