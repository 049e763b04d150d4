import { DbSwitchError } from '../errors.js';
import { lexSql } from './lexer.js';

const SEMICOLON = 0x3b;

/** Whitespace as `String.prototype.trim` sees it (ASCII, NBSP and the other Unicode spaces). */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x80 && /\s/.test(String.fromCharCode(c)));
}

/**
 * Splits a list of statements (DB_INIT_SQL) at the `;` that lie in code: not in a literal, a
 * quoted identifier, a comment or an executable comment. Each statement is trimmed of whitespace
 * and of the plain comments before and after it; empty ones and ones holding only comments are
 * dropped, so that each can be sent on its own and no connection ever needs multi-statement mode
 * (which would let an injected `; DROP ...` run).
 *
 * There is no `DELIMITER` (a mysql client command): a stored program body with `;` inside
 * (`CREATE PROCEDURE ... BEGIN ...; ...; END`) cannot be given this way.
 *
 * Throws `DbSwitchError` ECONFIG when a quote, quoted identifier or comment is never closed. The
 * message gives the statement's number only, never its text (it may hold a password); the caller
 * names the setting.
 *
 * @example
 * splitStatements("SET time_zone = '+00:00'; -- UTC\nSET NAMES utf8mb4;");
 * // ["SET time_zone = '+00:00'", 'SET NAMES utf8mb4']
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  // The statement being read runs from its first to its last piece of content: code, a literal,
  // an executable comment. Whitespace and plain comments around it are left out.
  let contentStart = -1;
  let contentEnd = -1;
  let execDepth = 0;
  const content = (start: number, end: number): void => {
    if (contentStart < 0) contentStart = start;
    contentEnd = end;
  };
  const finish = (): void => {
    if (contentStart >= 0) statements.push(text.slice(contentStart, contentEnd));
    contentStart = -1;
  };

  for (const segment of lexSql(text)) {
    switch (segment.kind) {
      case 'code':
        for (let k = segment.start; k < segment.end; k++) {
          const c = text.charCodeAt(k);
          // A `;` inside an executable comment is the server's to reject, not a separator.
          if (c === SEMICOLON && execDepth === 0) finish();
          else if (!isSpace(c)) content(k, k + 1);
        }
        break;
      case 'comment':
        break;
      case 'exec-start':
        execDepth++;
        content(segment.start, segment.end);
        break;
      case 'exec-end':
        execDepth--;
        content(segment.start, segment.end);
        break;
      case 'string':
      case 'identifier':
      case 'binary':
      case 'number':
        content(segment.start, segment.end);
        break;
      case 'unterminated':
        throw new DbSwitchError(
          'ECONFIG',
          `statement ${statements.length + 1} has an unterminated ${segment.construct}: a quote or comment opened in it is never closed (the text is not shown, it may hold a password)`,
        );
    }
  }
  finish();
  return statements;
}
