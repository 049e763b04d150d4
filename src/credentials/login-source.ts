import type { AwsServices } from '../aws/aws-services.js';
import type { ConfigSource, DbSwitchConfig } from '../config/config.js';
import { settingFor } from '../config/schema.js';
import { settingLabel } from '../config/setting-label.js';
import { DbSwitchError, isDbSwitchError } from '../errors.js';
import type { Logger } from '../logging/create-logger.js';
import { parseDatabaseSecret, type DatabaseSecret } from './database-secret.js';
import { iamAuthPlugins } from './iam-auth-plugin.js';
import { IamTokenSource, type TokenReport } from './iam-token-source.js';

/** Where and as whom one new connection logs in. */
export interface Login {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string | undefined;
  /** Set for DB_AUTH=password. */
  readonly password: string | undefined;
  /** Set for DB_AUTH=iam: answers mysql_clear_password with a fresh token, on verified TLS only. */
  readonly authPlugins: ReturnType<typeof iamAuthPlugins> | undefined;
}

/** A login as a Transport carries it (the driver runs the handshake). */
export function loginFields(login: Login): { host: string; port: number; user: string; password: string | undefined; database: string | undefined; authPlugins: Record<string, unknown> | undefined } {
  return { host: login.host, port: login.port, user: login.user, password: login.password, database: login.database, authPlugins: login.authPlugins };
}

/** A login for a program outside this process: the password, or for IAM a fresh token as one. */
export type ToolLogin = Omit<Login, 'authPlugins'>;

/**
 * The login of each new connection: the configuration, filled in by the Secrets Manager secret
 * (DB_SECRET_ID) where the configuration left a value out, with IAM tokens when DB_AUTH=iam. The
 * secret is fetched once and cached; after "Access denied" it is fetched again once (rotation).
 * Every provider composes one; none inherits it.
 */
export class LoginSource {
  readonly #config: DbSwitchConfig;
  readonly #aws: AwsServices;
  readonly #logger: Logger;
  readonly #explicit: (key: string) => boolean;
  #secret: Promise<DatabaseSecret> | undefined;
  #tokens: IamTokenSource | undefined;

  constructor(config: DbSwitchConfig, aws: AwsServices, logger: Logger, sources?: ReadonlyMap<string, ConfigSource>) {
    this.#config = config;
    this.#aws = aws;
    this.#logger = logger;
    // Without sources (a config built by hand), a value equal to the schema default counts as left out.
    this.#explicit = (key) => {
      const source = sources?.get(key);
      if (source !== undefined) return source.kind !== 'default';
      const [section, name] = key.split('.') as [keyof DbSwitchConfig, string];
      return (config[section] as Record<string, unknown>)[name] !== (settingFor(key)?.default ?? undefined);
    };
  }

  /** What the last IAM token was signed for (never the token). */
  get token(): TokenReport | undefined {
    return this.#tokens?.report;
  }

  /** The login of the moment. */
  async login(): Promise<Login> {
    const { db, aws } = this.#config;
    const secret = db.secretId === undefined ? {} : await this.#fetchSecret();
    const pick = <T>(key: string, configured: T | undefined, fromSecret: T | undefined): T | undefined =>
      this.#explicit(key) ? configured : (fromSecret ?? configured);
    const host = pick('db.host', db.host, secret.host) ?? db.host;
    const port = pick('db.port', db.port, secret.port) ?? db.port;
    const user = pick('db.user', db.user, secret.username);
    if (user === undefined) {
      throw new DbSwitchError('ECONFIG', `${settingLabel('db.user')}: not set, and the secret ${db.secretId ?? ''} (${settingLabel('db.secretId')}) has no "username"`);
    }
    const database = pick('db.database', db.database, secret.dbname);
    if (db.auth === 'password') {
      return { host, port, user, database, password: pick('db.password', db.password, secret.password), authPlugins: undefined };
    }
    const tokens = this.#tokensFor(host, port, user, aws.region ?? '');
    return { host, port, user, database, password: undefined, authPlugins: iamAuthPlugins(() => tokens.token(), host) };
  }

  /** For a program outside this process (`dbswitch exec`): the password, or for IAM a fresh token. */
  async toolLogin(): Promise<ToolLogin> {
    const { authPlugins, ...login } = await this.login();
    if (authPlugins === undefined || this.#tokens === undefined) return login;
    return { ...login, password: await this.#tokens.token() };
  }

  /**
   * Runs `connect` with the login of the moment. When the server says "Access denied" and a
   * secret is in play, the secret is fetched again and, if it changed (rotation), `connect` runs
   * once more: a rotation costs one failed login, not an outage.
   */
  async connect<T>(connect: (login: Login) => Promise<T>): Promise<T> {
    try {
      return await connect(await this.login());
    } catch (err) {
      if (isDbSwitchError(err, 'EAUTH') && (await this.#secretChanged())) return connect(await this.login());
      throw err;
    }
  }

  async #secretChanged(): Promise<boolean> {
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

  #fetchSecret(): Promise<DatabaseSecret> {
    if (this.#secret !== undefined) return this.#secret;
    const { db, aws } = this.#config;
    const secretId = db.secretId ?? '';
    const fetched = this.#aws.getSecret(aws.region ?? '', secretId).then(
      (text) => parseDatabaseSecret(text, secretId),
      (err: unknown) => {
        throw new DbSwitchError(
          'EAUTH',
          `cannot read the secret ${secretId} (${settingLabel('db.secretId')}) from Secrets Manager in ${aws.region ?? '(no AWS_REGION)'}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      },
    );
    // A failure is not kept: the next connection asks again (the secret or the network may be fixed).
    fetched.catch(() => {
      if (this.#secret === fetched) this.#secret = undefined;
    });
    this.#secret = fetched;
    return fetched;
  }
}
