import { settingLabel } from '../config/setting-label.js';
import { DbSwitchError } from '../errors.js';

/** The fields of an RDS-managed (or hand-made) Secrets Manager secret that dbswitch reads. */
export interface DatabaseSecret {
  readonly username?: string;
  readonly password?: string;
  readonly host?: string;
  readonly port?: number;
  readonly dbname?: string;
}

/**
 * Reads a secret's JSON text. The text itself never appears in an error: a secret that is not
 * JSON may be a bare password.
 */
export function parseDatabaseSecret(text: string, secretId: string): DatabaseSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DbSwitchError(
      'ECONFIG',
      `the secret ${secretId} (${settingLabel('db.secretId')}) is not JSON; expected {"username", "password", "host", "port", "dbname"}`,
      { cause: new Error(`JSON.parse failed (${err instanceof Error ? err.name : 'error'}); the text is not shown`) },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DbSwitchError('ECONFIG', `the secret ${secretId} (${settingLabel('db.secretId')}) is not a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const text_ = (name: string): string | undefined => {
    const field = record[name];
    return typeof field === 'string' && field !== '' ? field : undefined;
  };
  const rawPort = record['port'];
  const port = typeof rawPort === 'number' ? rawPort : typeof rawPort === 'string' && /^\d+$/.test(rawPort) ? Number(rawPort) : undefined;
  const username = text_('username');
  const password = text_('password');
  const host = text_('host');
  const dbname = text_('dbname');
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(host === undefined ? {} : { host }),
    ...(port === undefined || !Number.isInteger(port) || port < 1 || port > 65535 ? {} : { port }),
    ...(dbname === undefined ? {} : { dbname }),
  };
}
