import { existsSync } from 'node:fs';
import type { DbSwitchConfig } from './config.js';

/** One thing wrong with the configuration; `key` is the dotted setting it is about, if any. */
export interface Problem {
  readonly key?: string;
  readonly message: string;
  /** The offending value, as JSON (never for sensitive keys). */
  readonly shown?: string;
  /** Where the offending value was set: a file, an env var, or createDb({ config }). */
  readonly origin?: string;
}

/**
 * Rules that span several settings: what the chosen `db.type` needs, and combinations that would
 * silently do something other than what was asked. Each problem names the key to fix.
 */
export function checkRules(config: DbSwitchConfig): Problem[] {
  const { db, aws, ssh } = config;
  const problems: Problem[] = [];
  const need = (key: string, present: unknown, why: string): void => {
    if (present === undefined) problems.push({ key, message: `is required ${why}` });
  };

  if (db.secretId === undefined) {
    need('db.user', db.user, 'unless DB_SECRET_ID names a Secrets Manager secret that provides it');
  }
  if (db.socketPath !== undefined && db.type !== 'basic') {
    problems.push({ key: 'db.socketPath', message: `is only used with DB_TYPE=basic, not ${db.type}; unset DB_SOCKET` });
  }
  if (db.tlsCaPath !== undefined && !existsSync(db.tlsCaPath)) {
    problems.push({ key: 'db.tlsCaPath', message: `names a file that does not exist: ${db.tlsCaPath}` });
  }
  if (db.tlsCaPath !== undefined && db.tls === 'disabled') {
    problems.push({ key: 'db.tls', message: 'is disabled while DB_TLS_CA is set; set DB_TLS to verify-full (or verify-ca, required)' });
  }
  if (db.auth === 'iam') {
    if (db.type === 'basic') {
      problems.push({ key: 'db.auth', message: 'iam needs DB_TYPE=aws (or ssh through a bastion); basic sends a password' });
    }
    if (db.password !== undefined) {
      problems.push({ key: 'db.password', message: 'is not used with DB_AUTH=iam, which signs a fresh token; unset DB_PASSWORD' });
    }
    need('aws.region', aws.region, 'to sign IAM tokens (DB_AUTH=iam)');
    if (db.tls !== 'verify-full' && db.type !== 'aws') {
      problems.push({ key: 'db.tls', message: `must be verify-full with DB_AUTH=iam, which sends the token as a cleartext password; got ${db.tls}` });
    }
  }
  if (db.secretId !== undefined) need('aws.region', aws.region, 'to read the secret named by DB_SECRET_ID');

  if (db.type === 'aws') {
    if (db.tls !== 'verify-full') {
      problems.push({
        key: 'db.tls',
        message: `must be verify-full with DB_TYPE=aws, which sends an IAM token as a cleartext password; got ${db.tls}`,
      });
    }
  }

  if (db.type === 'ssh') {
    need('ssh.host', ssh.host, 'with DB_TYPE=ssh (the bastion)');
    need('ssh.user', ssh.user, 'with DB_TYPE=ssh');
    if (ssh.privateKeyPath === undefined && ssh.privateKey === undefined && ssh.agentSocket === undefined && ssh.ec2InstanceId === undefined) {
      problems.push({
        key: 'ssh.privateKeyPath',
        message: 'or SSH_PRIVATE_KEY, SSH_AUTH_SOCK (agent) or SSH_EC2_INSTANCE_ID is required with DB_TYPE=ssh to log in to the bastion',
      });
    }
    if (ssh.ec2InstanceId !== undefined) need('aws.region', aws.region, 'to push a key with EC2 Instance Connect (SSH_EC2_INSTANCE_ID)');
    if (ssh.privateKeyPath !== undefined && !existsSync(ssh.privateKeyPath)) {
      problems.push({ key: 'ssh.privateKeyPath', message: `names a file that does not exist: ${ssh.privateKeyPath}` });
    }
  }
  return problems;
}
