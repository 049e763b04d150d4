import { existsSync } from 'node:fs';
import type { DbSwitchConfig } from './config.js';
import type { Problem } from './problem.js';
import { showValue } from './problem.js';
import { envName, type SettingKey } from './schema.js';

/**
 * Rules that span several settings: what the chosen `db.type` needs, and combinations that would
 * silently do something other than what was asked. Each problem names the key to fix; other
 * settings are named by their env var, taken from the schema.
 */
export function checkRules(config: DbSwitchConfig): Problem[] {
  const { db, aws, ssh } = config;
  const problems: Problem[] = [];
  const env = envName;
  const problem = (key: SettingKey, message: string): void => {
    problems.push({ key, message });
  };
  const need = (key: SettingKey, present: unknown, why: string): void => {
    if (present === undefined) problem(key, `is required ${why}`);
  };
  const missingFile = (key: SettingKey, path: string | undefined): void => {
    if (path !== undefined && !existsSync(path)) problem(key, `names a file that does not exist: ${showValue(path)}`);
  };

  if (db.secretId === undefined) {
    need('db.user', db.user, `unless ${env('db.secretId')} names a Secrets Manager secret that provides it`);
  }
  if (db.socketPath !== undefined && db.type !== 'basic') {
    problem('db.socketPath', `is only used with ${env('db.type')}=basic, not ${db.type}; unset ${env('db.socketPath')}`);
  }
  missingFile('db.tlsCaPath', db.tlsCaPath);
  if (db.tlsCaPath !== undefined && db.tls === 'disabled') {
    problem('db.tls', `is disabled while ${env('db.tlsCaPath')} is set; set ${env('db.tls')} to verify-full (or verify-ca, required)`);
  }
  if (db.auth === 'iam') {
    if (db.type === 'basic') {
      problem('db.auth', `iam needs ${env('db.type')}=aws (or ssh through a bastion); basic sends a password`);
    }
    if (db.password !== undefined) {
      problem('db.password', `is not used with ${env('db.auth')}=iam, which signs a fresh token; unset ${env('db.password')}`);
    }
    need('aws.region', aws.region, `to sign IAM tokens (${env('db.auth')}=iam)`);
    if (db.tls !== 'verify-full' && db.type !== 'aws') {
      problem('db.tls', `must be verify-full with ${env('db.auth')}=iam, which sends the token as a cleartext password; got ${db.tls}`);
    }
  }
  if (db.secretId !== undefined) need('aws.region', aws.region, `to read the secret named by ${env('db.secretId')}`);

  if (db.type === 'aws' && db.tls !== 'verify-full') {
    problem('db.tls', `must be verify-full with ${env('db.type')}=aws, which sends an IAM token as a cleartext password; got ${db.tls}`);
  }

  if (db.type === 'ssh') {
    const withSsh = `with ${env('db.type')}=ssh`;
    need('ssh.host', ssh.host, `${withSsh} (the bastion)`);
    need('ssh.user', ssh.user, withSsh);
    if (ssh.privateKeyPath === undefined && ssh.privateKey === undefined && ssh.agentSocket === undefined && ssh.ec2InstanceId === undefined) {
      problem(
        'ssh.privateKeyPath',
        `or ${env('ssh.privateKey')}, ${env('ssh.agentSocket')} (agent) or ${env('ssh.ec2InstanceId')} is required ${withSsh} to log in to the bastion`,
      );
    }
    if (ssh.ec2InstanceId !== undefined) {
      need('aws.region', aws.region, `to push a key with EC2 Instance Connect (${env('ssh.ec2InstanceId')})`);
    }
    missingFile('ssh.privateKeyPath', ssh.privateKeyPath);
  }
  return problems;
}
