import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigShape } from './check-layer.js';
import type { DbSwitchConfig } from './config.js';
import { accept, type Format } from './formats.js';
import { schema } from './schema.js';

/**
 * The merged values as the typed configuration: unset (`null`) becomes `undefined`, `db.tls`
 * and `db.auth` get their per-`db.type` defaults, `~` and relative paths become absolute
 * (`~` is `HOME` of the given environment, relative to `cwd`).
 *
 * Each value is read through its setting's format, which both checks it and gives it its type,
 * so no cast is needed; the object literals are checked by the compiler against
 * `DbSwitchConfig` (derived from the schema), so a setting added to the schema and not
 * resolved here is a compile error.
 */
export function resolveSettings(merged: ConfigShape, env: Readonly<Record<string, string>>, cwd: string): DbSwitchConfig {
  const home = env['HOME'] ?? homedir();
  const absolute = (value: string): string => {
    const expanded = value === '~' || value.startsWith('~/') ? join(home, value.slice(1)) : value;
    return isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
  };
  const path = (value: string | null): string | undefined => (value === null ? undefined : absolute(value));
  const { db, aws, pool, ssh, log } = schema;
  const section = (name: string): Record<string, unknown> => merged[name] ?? {};
  const read = <T>(setting: { readonly format: Format<T> }, sectionName: string, name: string): T => accept(setting.format, section(sectionName)[name]);

  const type = read(db.type, 'db', 'type');
  return {
    db: {
      type,
      host: read(db.host, 'db', 'host'),
      port: read(db.port, 'db', 'port'),
      user: read(db.user, 'db', 'user') ?? undefined,
      password: read(db.password, 'db', 'password') ?? undefined,
      database: read(db.database, 'db', 'database') ?? undefined,
      socketPath: path(read(db.socketPath, 'db', 'socketPath')),
      charset: read(db.charset, 'db', 'charset'),
      tls: read(db.tls, 'db', 'tls') ?? db.tls.byDbType[type],
      tlsCaPath: path(read(db.tlsCaPath, 'db', 'tlsCaPath')),
      auth: read(db.auth, 'db', 'auth') ?? db.auth.byDbType[type],
      secretId: read(db.secretId, 'db', 'secretId') ?? undefined,
      initSql: read(db.initSql, 'db', 'initSql') ?? undefined,
      statementTimeoutMs: read(db.statementTimeoutMs, 'db', 'statementTimeoutMs'),
      connectTimeoutMs: read(db.connectTimeoutMs, 'db', 'connectTimeoutMs'),
    },
    aws: {
      region: read(aws.region, 'aws', 'region') ?? undefined,
    },
    pool: {
      max: read(pool.max, 'pool', 'max'),
      acquireTimeoutMs: read(pool.acquireTimeoutMs, 'pool', 'acquireTimeoutMs'),
      idleTimeoutMs: read(pool.idleTimeoutMs, 'pool', 'idleTimeoutMs'),
      maxLifetimeMs: read(pool.maxLifetimeMs, 'pool', 'maxLifetimeMs'),
      pingAfterIdleMs: read(pool.pingAfterIdleMs, 'pool', 'pingAfterIdleMs'),
      lingerMs: read(pool.lingerMs, 'pool', 'lingerMs'),
      resetOnRelease: read(pool.resetOnRelease, 'pool', 'resetOnRelease'),
      closeTimeoutMs: read(pool.closeTimeoutMs, 'pool', 'closeTimeoutMs'),
    },
    ssh: {
      host: read(ssh.host, 'ssh', 'host') ?? undefined,
      port: read(ssh.port, 'ssh', 'port'),
      user: read(ssh.user, 'ssh', 'user') ?? undefined,
      privateKeyPath: path(read(ssh.privateKeyPath, 'ssh', 'privateKeyPath')),
      privateKey: read(ssh.privateKey, 'ssh', 'privateKey') ?? undefined,
      passphrase: read(ssh.passphrase, 'ssh', 'passphrase') ?? undefined,
      agentSocket: read(ssh.agentSocket, 'ssh', 'agentSocket') ?? undefined,
      knownHostsPath: absolute(read(ssh.knownHostsPath, 'ssh', 'knownHostsPath')),
      hostKeyFingerprint: read(ssh.hostKeyFingerprint, 'ssh', 'hostKeyFingerprint') ?? undefined,
      strictHostKeyChecking: read(ssh.strictHostKeyChecking, 'ssh', 'strictHostKeyChecking'),
      localPort: read(ssh.localPort, 'ssh', 'localPort'),
      keepaliveIntervalMs: read(ssh.keepaliveIntervalMs, 'ssh', 'keepaliveIntervalMs'),
      ec2InstanceId: read(ssh.ec2InstanceId, 'ssh', 'ec2InstanceId') ?? undefined,
    },
    log: {
      level: read(log.level, 'log', 'level'),
      queries: read(log.queries, 'log', 'queries'),
    },
  };
}
