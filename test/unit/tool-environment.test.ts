/** The environment `dbswitch exec` gives its command: the endpoint in every form, no secrets of the route. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolEnvironment } from '../../src/cli/tool-environment.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ToolEndpoint } from '../../src/db-provider.js';

const TOKEN = 'db.example.rds.amazonaws.com:3306/?Action=connect&X-Amz-Signature=abc+/=';

function endpoint(overrides: Partial<ToolEndpoint> = {}): ToolEndpoint {
  return {
    host: '127.0.0.1',
    port: 40123,
    socketPath: undefined,
    user: 'app',
    password: 'p@ss:w/rd',
    database: 'shop',
    forwarded: true,
    description: 'db:3306 via bastion:22',
    close: () => Promise.resolve(),
    ...overrides,
  };
}

const PARENT = {
  PATH: '/usr/bin',
  HOME: '/home/me',
  DB_TYPE: 'ssh',
  DB_HOST: 'db.private',
  DB_PORT: '3306',
  DB_SECRET_ID: 'prod/app/db',
  DB_AUTH: 'password',
  SSH_HOST: 'bastion.example.com',
  SSH_USER: 'ec2-user',
  SSH_PRIVATE_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----',
  SSH_PASSPHRASE: 'key passphrase',
  SSH_KNOWN_HOSTS: '/home/me/.ssh/known_hosts',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
  AWS_SESSION_TOKEN: 'FwoGZXIvYXdzE',
  AWS_REGION: 'eu-west-1',
  MYSQL_UNIX_PORT: '/var/run/mysqld/mysqld.sock',
};

function config(env: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig({ env, cwd: mkdtempSync(join(tmpdir(), 'dbswitch-tool-env-')) });
}

describe('toolEnvironment', () => {
  const keyPath = join(mkdtempSync(join(tmpdir(), 'dbswitch-tool-key-')), 'id_ed25519');
  writeFileSync(keyPath, 'not read by toolEnvironment');
  const sshConfig = config({ DB_TYPE: 'ssh', DB_USER: 'app', SSH_HOST: 'bastion.example.com', SSH_USER: 'ec2-user', SSH_PRIVATE_KEY_PATH: keyPath });

  it('gives the endpoint as DATABASE_URL, DB_* (as DB_TYPE=basic) and the MySQL client’s variables', () => {
    const env = toolEnvironment(PARENT, endpoint(), sshConfig);
    expect(env).toMatchObject({
      DB_TYPE: 'basic',
      DB_HOST: '127.0.0.1',
      DB_PORT: '40123',
      DB_USER: 'app',
      DB_PASSWORD: 'p@ss:w/rd',
      DB_NAME: 'shop',
      DATABASE_URL: 'mysql://app:p%40ss%3Aw%2Frd@127.0.0.1:40123/shop',
      MYSQL_HOST: '127.0.0.1',
      MYSQL_TCP_PORT: '40123',
      MYSQL_PWD: 'p@ss:w/rd',
    });
    expect(env['PATH']).toBe('/usr/bin');
    expect(env['HOME']).toBe('/home/me');
  });

  it('removes the SSH and AWS settings and secrets, and the secret id', () => {
    const env = toolEnvironment(PARENT, endpoint(), sshConfig);
    for (const name of ['SSH_PRIVATE_KEY', 'SSH_PASSPHRASE', 'SSH_HOST', 'SSH_USER', 'SSH_KNOWN_HOSTS', 'DB_SECRET_ID', 'DB_AUTH', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_REGION']) {
      expect(env, name).not.toHaveProperty(name);
    }
    const values = Object.values(env).join('\n');
    for (const secret of [PARENT.SSH_PRIVATE_KEY, PARENT.SSH_PASSPHRASE, PARENT.AWS_SECRET_ACCESS_KEY, PARENT.AWS_SESSION_TOKEN]) expect(values).not.toContain(secret);
  });

  it('never lets the mysql client pick another server: a TCP endpoint drops the parent’s socket', () => {
    const env = toolEnvironment(PARENT, endpoint(), sshConfig);
    expect(env).not.toHaveProperty('MYSQL_UNIX_PORT');
    expect(env).not.toHaveProperty('DB_SOCKET');
  });

  it('names TCP as 127.0.0.1 for the mysql client when the endpoint says localhost', () => {
    const env = toolEnvironment(PARENT, endpoint({ host: 'localhost' }), sshConfig);
    expect(env['MYSQL_HOST']).toBe('127.0.0.1');
  });

  it('gives a unix socket endpoint to the client as its socket', () => {
    const basic = config({ DB_USER: 'app', DB_SOCKET: '/run/mysqld/mysqld.sock' });
    const env = toolEnvironment({}, endpoint({ socketPath: '/run/mysqld/mysqld.sock', host: 'localhost', port: 3306, forwarded: false }), basic);
    expect(env).toMatchObject({ MYSQL_HOST: 'localhost', MYSQL_UNIX_PORT: '/run/mysqld/mysqld.sock', DB_SOCKET: '/run/mysqld/mysqld.sock' });
    expect(env).not.toHaveProperty('MYSQL_TCP_PORT');
    expect(env['DATABASE_URL']).toContain('?socket=');
  });

  it('passes an IAM token as the password, lets the client send it in clear text, and keeps verify-full off a forwarded port only', () => {
    const aws = config({ DB_TYPE: 'aws', DB_USER: 'app', DB_HOST: 'db.example.rds.amazonaws.com', AWS_REGION: 'eu-west-1' });
    const direct = toolEnvironment(PARENT, endpoint({ host: 'db.example.rds.amazonaws.com', port: 3306, password: TOKEN, forwarded: false }), aws);
    expect(direct).toMatchObject({ DB_PASSWORD: TOKEN, MYSQL_PWD: TOKEN, LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN: '1', DB_TLS: 'verify-full', DB_TYPE: 'basic' });
    expect(direct).not.toHaveProperty('DB_AUTH');
    const forwarded = toolEnvironment(PARENT, endpoint({ password: TOKEN }), aws);
    expect(forwarded['DB_TLS']).toBe('verify-ca');
  });

  it('leaves out variables it has no value for', () => {
    const env = toolEnvironment({}, endpoint({ password: undefined, database: undefined }), sshConfig);
    expect(env).not.toHaveProperty('DB_PASSWORD');
    expect(env).not.toHaveProperty('MYSQL_PWD');
    expect(env).not.toHaveProperty('DB_NAME');
    expect(env).not.toHaveProperty('LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN');
    expect(Object.values(env).every((value) => value !== undefined)).toBe(true);
  });
});
