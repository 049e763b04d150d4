import { codeText, lexIsAmbiguous, lexSql } from './lexer.js';

/**
 * Session state the server leaves unflagged: with session_track_state_change on, MariaDB 10.11
 * sets SERVER_SESSION_STATE_CHANGED for SET @a, SET sql_mode, SET SESSION TRANSACTION, SET
 * NAMES, SET autocommit, USE, PREPARE and temporary tables, but not for the statements below
 * (each checked on the server). Matched on `codeText`, so literals and comments do not count
 * while executable comments and quoted names (`` `GET_LOCK`(...) `` is a call) do.
 */
const UNTRACKED = new RegExp(
  [
    // User variables assigned outside SET: SELECT @b := 2, DO @b := 2, UPDATE ... SET x = (@n := @n + 1).
    String.raw`:=`,
    // SELECT ... INTO @c, SELECT x INTO @a, @b FROM t.
    String.raw`\bINTO\s*@`,
    // LOAD DATA ... (a, @b) SET c = @b leaves @b set.
    String.raw`\bLOAD\s+(?:DATA|XML)\b[^;]*@`,
    // User-level locks live until released or the session ends. RELEASE_LOCK, IS_USED_LOCK and
    // IS_FREE_LOCK acquire nothing. SERVICE_GET_*_LOCKS is MySQL's locking service.
    String.raw`\b(?:GET_LOCK|SERVICE_GET_READ_LOCKS|SERVICE_GET_WRITE_LOCKS)\s*\(`,
    // LOCK TABLE(S), LOCK INSTANCE FOR BACKUP (MySQL).
    String.raw`\bLOCK\s+(?:TABLES?|INSTANCE)\b`,
    // FLUSH TABLES ... WITH READ LOCK, FLUSH TABLES t FOR EXPORT; a plain FLUSH TABLES also matches.
    String.raw`\bFLUSH\b[^;]*\bTABLES?\b`,
    // MariaDB BACKUP STAGE ..., BACKUP LOCK t.
    String.raw`\bBACKUP\s+(?:STAGE|LOCK)\b`,
    // SET TRANSACTION (one-shot: the next transaction only), and its variable form
    // SET @@tx_isolation / @@transaction_isolation / @@transaction_read_only without a scope.
    String.raw`\bSET\s+(?:(?:SESSION|LOCAL|GLOBAL)\s+)?TRANSACTION\b`,
    String.raw`\bSET\b[^;]*@@(?:TX|TRANSACTION)_`,
    // XA START/END/PREPARE/COMMIT/ROLLBACK: an XA transaction outlives its statements.
    String.raw`\bXA\b`,
    // HANDLER t OPEN keeps a table handle in the session.
    String.raw`\bHANDLER\b[^;]*\bOPEN\b`,
    // Stored programs and dynamic SQL can do any of the above out of sight.
    String.raw`\bCALL\b|\bEXECUTE\b`,
  ].join('|'),
  'i',
);

/**
 * A cheap test on the raw text that every statement matching UNTRACKED passes, so that the usual
 * statement costs one regex scan and no lexing.
 */
const MAYBE_UNTRACKED = /:=|@|LOCK|FLUSH|BACKUP|TRANSACTION|XA|HANDLER|CALL|EXECUTE/i;

/**
 * Whether a statement may leave session state that the server's state tracker does not flag:
 * user variables assigned in a SELECT (`SELECT @b := 2`, `SELECT x INTO @a, @b FROM t`), user
 * locks (`GET_LOCK(`), `LOCK TABLES`, `FLUSH TABLES ... WITH READ LOCK`, `LOCK INSTANCE FOR
 * BACKUP`, `BACKUP STAGE`/`BACKUP LOCK`, `SET TRANSACTION`, `XA ...`, `HANDLER ... OPEN`, and
 * `CALL`/`EXECUTE` (a stored program may do any of these). The pool resets a connection whose
 * session changed before handing it to the next user.
 *
 * Errs towards true: a false positive costs one reset, a false negative leaks a lock or a
 * variable to the next user. So a plain `FLUSH TABLES`, a table named `xa`, or any text the
 * server might lex differently (`lexIsAmbiguous`: an unterminated quote, a backslash in a
 * literal, a versioned executable comment) count; a match only inside a literal or comment
 * (`SELECT 'GET_LOCK('`) and a name like `lock_tables` or `` `lock tables` `` do not.
 * Not seen: a stored function called from a SELECT that takes a lock.
 *
 * Cost, measured with Node 20 on a two-core machine busy with other tests: about 35 ns for
 * `SELECT 1` and 0.5 µs for a 200-character INSERT with placeholders (one regex scan, no
 * lexing); 1-2 µs when that quick test matches (`@`, LOCK, XA ... anywhere) and the text is lexed.
 *
 * @example
 * changesUntrackedState("SELECT GET_LOCK('job', 10)"); // true
 * changesUntrackedState("SELECT 'GET_LOCK(' AS note"); // false
 */
export function changesUntrackedState(sql: string): boolean {
  if (!MAYBE_UNTRACKED.test(sql)) return false;
  const segments = lexSql(sql);
  return lexIsAmbiguous(sql, segments) || UNTRACKED.test(codeText(sql, segments));
}

const STARTS_WITH_USE = /^\s*USE\b/i;
const STARTS_WITH_COMMENT = /^\s*(?:[#/]|--)/;

/**
 * Whether a statement is `USE db`. The server flags it as a state change, but
 * COM_RESET_CONNECTION keeps the schema, so the pool must switch back itself. A leading comment
 * or executable comment (`/*!40000 USE db *\/`) is looked through; `SELECT ... USE INDEX (i)` is
 * not a switch.
 *
 * @example
 * switchesSchema('USE reporting'); // true
 * switchesSchema('SELECT * FROM t USE INDEX (ix)'); // false
 */
export function switchesSchema(sql: string): boolean {
  if (STARTS_WITH_USE.test(sql)) return true;
  if (!STARTS_WITH_COMMENT.test(sql)) return false;
  return STARTS_WITH_USE.test(codeText(sql, lexSql(sql)));
}
