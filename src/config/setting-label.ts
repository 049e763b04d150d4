import { settingOf, type SettingKey } from './schema.js';

/**
 * How every message names a setting: `db.port (DB_PORT)`. One style, generated from the schema,
 * so a renamed env var can never leave a stale name behind in an error.
 */
export function settingLabel(key: SettingKey): string {
  const setting = settingOf(key);
  return `${setting.key} (${setting.env})`;
}
