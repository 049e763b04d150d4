/** What a failed connect tells the user: a stable code and the setting to look at. */
import { describe, expect, it } from 'vitest';
import { connectError, type ConnectTarget } from '../../src/connect/connect-error.js';

const target: ConnectTarget = {
  address: 'db.internal:3306',
  user: 'app',
  tls: 'verify-full',
  auth: 'password',
  addressSettings: 'db.host (DB_HOST) and db.port (DB_PORT)',
};

function failure(code: string | undefined, message: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('connectError', () => {
  it.each(['ERR_TLS_CERT_ALTNAME_INVALID', 'SELF_SIGNED_CERT_IN_CHAIN', 'HANDSHAKE_NO_SSL_SUPPORT', 'CERT_HAS_EXPIRED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_SOMETHING_NEW'])(
    'maps the TLS failure %s to ETLS naming DB_TLS and DB_TLS_CA',
    (code) => {
      const err = connectError(failure(code, 'certificate trouble'), target);
      expect(err.code).toBe('ETLS');
      expect(err.message).toContain('db.tls (DB_TLS) = verify-full');
      expect(err.message).toContain('DB_TLS_CA');
    },
  );

  it('maps access denied to EAUTH naming DB_USER and DB_PASSWORD', () => {
    const err = connectError(failure('ER_ACCESS_DENIED_ERROR', "Access denied for user 'app'@'10.0.0.5' (using password: YES)"), target);
    expect(err.code).toBe('EAUTH');
    expect(err.message).toContain('DB_USER');
    expect(err.message).toContain('DB_PASSWORD');
  });

  it('maps access denied under IAM to EAUTH with the IAM hint instead of DB_PASSWORD', () => {
    const err = connectError(failure('ER_ACCESS_DENIED_ERROR', "Access denied for user 'app'"), { ...target, auth: 'iam' });
    expect(err.code).toBe('EAUTH');
    expect(err.message).toContain('DB_USER');
    expect(err.message).toContain('rds-db:connect');
    expect(err.message).not.toContain('DB_PASSWORD');
  });

  it('maps access denied to the database to EAUTH naming DB_NAME', () => {
    const err = connectError(failure('ER_DBACCESS_DENIED_ERROR', "Access denied for user 'app' to database 'shop'"), target);
    expect(err.code).toBe('EAUTH');
    expect(err.message).toContain('DB_NAME');
  });

  it('maps an unknown charset to ECONFIG naming DB_CHARSET, not the address', () => {
    for (const err of [connectError(new TypeError("Unknown charset 'utf9'"), target), connectError(failure('ER_UNKNOWN_CHARACTER_SET', "Unknown character set: 'utf9'"), target)]) {
      expect(err.code).toBe('ECONFIG');
      expect(err.message).toContain('db.charset (DB_CHARSET)');
      expect(err.message).not.toContain('DB_HOST');
    }
  });

  it('maps a connect timeout to ECONNECT naming DB_CONNECT_TIMEOUT_MS', () => {
    const err = connectError(failure('ETIMEDOUT', 'connect ETIMEDOUT'), target);
    expect(err.code).toBe('ECONNECT');
    expect(err.message).toContain('DB_CONNECT_TIMEOUT_MS');
    expect(err.message).toContain('DB_HOST');
  });

  it('maps anything else to ECONNECT naming the address settings, keeping the cause', () => {
    const refused = failure('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.9:3306');
    const err = connectError(refused, target);
    expect(err.code).toBe('ECONNECT');
    expect(err.message).toContain('db.host (DB_HOST) and db.port (DB_PORT)');
    expect(err.cause).toBe(refused);
  });

  it('maps an unknown database to ECONNECT naming DB_NAME', () => {
    const err = connectError(failure('ER_BAD_DB_ERROR', "Unknown database 'shop'"), target);
    expect(err.code).toBe('ECONNECT');
    expect(err.message).toContain('DB_NAME');
  });
});
