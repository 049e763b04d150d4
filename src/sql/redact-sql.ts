import { codeText, lexIsAmbiguous, lexSql, type Segment } from './lexer.js';

/** What every hidden literal becomes: still a literal, so the statement keeps its shape. */
const REDACTED = "'[redacted]'";

/**
 * Names and keywords that mark a statement as one that may carry a secret in a literal. Matched
 * on `codeText` (outside literals and comments, inside executable comments, quoted names
 * unquoted). The statement forms are open-ended (`IDENTIFIED BY`, `... AS '*hash'`,
 * `USING PASSWORD('x')`, `REPLACE 'old'`, `OPTIONS (PASSWORD 'x')`, `MASTER_PASSWORD=`,
 * `SOURCE_PASSWORD=`, `AES_ENCRYPT(x, 'key')` ...), so the test is on the words, and then every
 * literal goes, whatever its place.
 */
const CREDENTIAL = new RegExp(
  [
    // Any name containing these: PASSWORD(), OLD_PASSWORD(), MASTER_PASSWORD, password_hash, api_token ...
    String.raw`PASSW|PWD|PASSPHRASE|SECRET|CREDENTIAL|TOKEN|AUTHENTICATION|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY`,
    // Functions that take a key: AES_ENCRYPT, AES_DECRYPT, DES_ENCRYPT, DES_DECRYPT, ENCRYPT, ENCODE, DECODE, KDF.
    String.raw`CRYPT|ENCODE|DECODE|\bKDF\b`,
    // Account management: IDENTIFIED ..., ALTER USER u REPLACE 'old', GRANT ... IDENTIFIED BY, CREATE SERVER ... OPTIONS.
    String.raw`\bIDENTIFIED\b|\bGRANT\b|\b(?:CREATE|ALTER)\s+(?:OR\s+REPLACE\s+)?(?:USER|SERVER)\b`,
    // FEDERATED, Spider and CONNECT tables: CONNECTION='mysql://user:password@host/db/t'.
    String.raw`\bCONNECTION\b|FEDERATED|\bSPIDER\b|\bCONNECT\b`,
  ].join('|'),
  'i',
);

/**
 * A cheap test on the raw text that every credential statement passes (each alternative of
 * CREDENTIAL shortened to a word it must contain), so that ordinary statements cost one regex
 * scan and no lexing.
 */
const MAYBE_CREDENTIAL =
  /PASSW|PWD|PASSPHRASE|SECRET|CREDENTIAL|TOKEN|AUTHENTICATION|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CRYPT|ENCODE|DECODE|KDF|IDENTIFIED|GRANT\b|CREATE\b|ALTER\b|CONNECT|FEDERATED|SPIDER/i;

const FIRST_QUOTE = /['"`]/;

/**
 * The statement as it may be logged (DB_LOG_QUERIES): in a statement that touches credentials,
 * every string, binary and numeric literal is replaced by `'[redacted]'` and the rest is kept as
 * written. Other statements are returned as they are.
 *
 * A statement is "touching credentials" when its code (not its literals or comments, but
 * including executable comments and quoted names) holds a word such as PASSWORD, IDENTIFIED,
 * SECRET, TOKEN, CREDENTIAL, a key-taking function (AES_ENCRYPT, ENCODE ...), GRANT, or
 * CREATE/ALTER USER/SERVER. Names count: `SELECT * FROM password_reset WHERE code = 'abc'` has
 * its literals hidden too. That is deliberate: a column named like a secret is the likeliest
 * place for one, and the log keeps the statement's shape.
 *
 * Numbers are hidden as well (`PASSWORD(123456)`, `AES_ENCRYPT(x, 4711)` are valid), at the
 * price of `LIMIT '[redacted]'`. When the server could read the text differently from the lexer
 * (`lexIsAmbiguous`: an unterminated quote or comment, a backslash in a literal, a versioned
 * executable comment), the raw text counts for the keyword test too, and everything from the
 * first quote character on is hidden.
 *
 * Limit: a secret written without quotes (`IDENTIFIED BY secret`, a syntax error) is not a
 * literal and stays visible; so does one written in a comment.
 *
 * @example
 * redactSql("ALTER USER app IDENTIFIED BY 's3cret'"); // "ALTER USER app IDENTIFIED BY '[redacted]'"
 * redactSql('SELECT * FROM orders WHERE id = 42'); // unchanged
 */
export function redactSql(sql: string): string {
  if (!MAYBE_CREDENTIAL.test(sql)) return sql;
  const segments = lexSql(sql);
  const ambiguous = lexIsAmbiguous(sql, segments);
  // When the server may lex the text differently, a keyword the lexer put in a literal or a
  // comment may be code to the server: the raw text decides too.
  if (!CREDENTIAL.test(codeText(sql, segments)) && !(ambiguous && CREDENTIAL.test(sql))) return sql;
  const cut = ambiguous ? ambiguityCut(sql, segments) : sql.length;
  let out = '';
  for (const segment of segments) {
    if (segment.start >= cut) break;
    switch (segment.kind) {
      case 'string':
      case 'binary':
      case 'number':
      case 'unterminated':
        out += REDACTED;
        // A literal straddling the cut (`X'...`, `_utf8mb4'...`) already hides the tail.
        if (segment.end > cut) return out;
        break;
      case 'code':
      case 'identifier':
      case 'comment':
      case 'exec-start':
      case 'exec-end':
        out += sql.slice(segment.start, Math.min(segment.end, cut));
        break;
    }
  }
  return cut < sql.length ? out + REDACTED : out;
}

/**
 * Where to stop trusting the lexer: the first quote character of any kind (even in a comment:
 * MySQL reads `/*M! ... *\/` as a comment where MariaDB runs it), or the unterminated segment.
 */
function ambiguityCut(sql: string, segments: readonly Segment[]): number {
  const quote = sql.search(FIRST_QUOTE);
  const last = segments[segments.length - 1];
  const unterminated = last?.kind === 'unterminated' ? last.start : sql.length;
  return quote >= 0 ? Math.min(quote, unterminated) : unterminated;
}
