import type { DbSwitchConfig } from '../config/config.js';
import { settings } from '../config/schema.js';
import type { ToolEndpoint } from '../db-provider.js';
import { databaseUrl } from './database-url.js';

/** Secrets a child process has no use for: it reaches the database through the endpoint it is given. */
const WITHHELD = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'];

/**
 * The environment `dbswitch exec` gives its command: the parent's, without the SSH and AWS
 * settings and secrets (the child needs neither), with the endpoint in every form tools read —
 * DATABASE_URL, DB_* for a child that calls createDb() itself (as DB_TYPE=basic), and the MySQL
 * client's own MYSQL_HOST / MYSQL_TCP_PORT / MYSQL_PWD, so `exec -- mysql` can never reach
 * another server than the one dbswitch reaches.
 */
export function toolEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  endpoint: ToolEndpoint,
  config: DbSwitchConfig,
): Record<string, string | undefined> {
  // The route is the endpoint now: the bastion, the secret and the auth method stay here.
  const kept = new Set(
    settings.filter((setting) => setting.section === 'ssh' || setting.section === 'aws' || setting.key === 'db.secretId' || setting.key === 'db.auth').map((setting) => setting.env),
  );
  for (const name of WITHHELD) kept.add(name);
  const env: Record<string, string | undefined> = Object.fromEntries(Object.entries(parent).filter(([name]) => !kept.has(name)));
  const socketPath = endpoint.socketPath;
  const tcp = socketPath === undefined;
  Object.assign(env, {
    DB_TYPE: 'basic',
    DB_HOST: endpoint.host,
    DB_PORT: String(endpoint.port),
    DB_USER: endpoint.user,
    DB_PASSWORD: endpoint.password,
    DB_NAME: endpoint.database,
    DB_SOCKET: socketPath,
    // Through a forwarded port the certificate still names the database, not 127.0.0.1: the
    // chain is checked, the name cannot be.
    DB_TLS: endpoint.forwarded && config.db.tls === 'verify-full' ? 'verify-ca' : config.db.tls,
    DATABASE_URL: databaseUrl({ user: endpoint.user, password: endpoint.password, host: endpoint.host, port: endpoint.port, database: endpoint.database, socketPath }),
    // The MySQL client takes "localhost" to mean its unix socket (source 000): name TCP as TCP.
    MYSQL_HOST: tcp ? (endpoint.host === 'localhost' ? '127.0.0.1' : endpoint.host) : 'localhost',
    MYSQL_TCP_PORT: tcp ? String(endpoint.port) : undefined,
    MYSQL_UNIX_PORT: socketPath,
    MYSQL_PWD: endpoint.password,
    // An IAM token is a cleartext password; the client only sends one when told it may.
    LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN: config.db.auth === 'iam' ? '1' : undefined,
  });
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
