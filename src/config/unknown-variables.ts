import { closestKey } from './closest-key.js';
import { CONFIG_FILE_VARIABLE } from './config-files.js';
import { settings } from './schema.js';

/** A `DB_*` or `SSH_*` variable that dbswitch does not read: most likely a typo. */
export interface UnknownVariable {
  readonly name: string;
  /** The dbswitch variable it most likely meant, when one is close. */
  readonly suggestion?: string;
}

/** The prefixes dbswitch owns: a variable under them that it does not read is flagged. */
const OWNED_PREFIX = /^(?:DB|SSH)_/;

/**
 * Names under those prefixes that others legitimately set: OpenSSH's own session variables
 * (`SSH_AUTH_SOCK` is read, as ssh.agentSocket) and the variable naming a config file.
 */
const SET_BY_OTHERS: ReadonlySet<string> = new Set([
  CONFIG_FILE_VARIABLE,
  'SSH_CLIENT',
  'SSH_CONNECTION',
  'SSH_TTY',
  'SSH_AGENT_PID',
  'SSH_ASKPASS',
  'SSH_ASKPASS_REQUIRE',
  'SSH_ORIGINAL_COMMAND',
]);

/** Names other tools use for a dbswitch setting, too far from it for a spelling match. */
const SYNONYMS: ReadonlyMap<string, string> = new Map([
  ['DB_DATABASE', 'DB_NAME'],
  ['DB_USERNAME', 'DB_USER'],
  ['DB_PASS', 'DB_PASSWORD'],
  ['DB_PWD', 'DB_PASSWORD'],
  ['DB_HOSTNAME', 'DB_HOST'],
  ['DB_SOCKET_PATH', 'DB_SOCKET'],
  ['DB_SSL', 'DB_TLS'],
]);

/**
 * The `DB_*` / `SSH_*` variables (non-empty; empty counts as unset) that are not dbswitch's,
 * sorted by name, each with the variable it most likely meant.
 *
 * @example
 * unknownVariables({ DB_PASWORD: 'x' }) // [{ name: 'DB_PASWORD', suggestion: 'DB_PASSWORD' }]
 */
export function unknownVariables(env: Readonly<Record<string, string>>): UnknownVariable[] {
  const known = new Set(settings.map((setting) => setting.env));
  const candidates = [...known, CONFIG_FILE_VARIABLE];
  return Object.keys(env)
    .filter((name) => OWNED_PREFIX.test(name) && !known.has(name) && !SET_BY_OTHERS.has(name))
    .sort()
    .map((name) => {
      const suggestion = SYNONYMS.get(name) ?? closestKey(name, candidates);
      return suggestion === undefined ? { name } : { name, suggestion };
    });
}

/** How a warning or `dbswitch config` says it: `DB_PASWORD: not a dbswitch variable; did you mean DB_PASSWORD?` */
export function describeUnknownVariable(variable: UnknownVariable): string {
  const hint = variable.suggestion === undefined ? '' : `; did you mean ${variable.suggestion}?`;
  return `${variable.name}: not a dbswitch variable${hint}`;
}
