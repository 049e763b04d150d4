/**
 * One lexer for MySQL/MariaDB statement text, shared by query-log redaction, DB_INIT_SQL
 * splitting and the session-state hints, so the three can never disagree about where a string
 * or a comment ends.
 *
 * It is not a parser: it only tells code from literals and comments, the way the server's own
 * lexer does (checked against MariaDB 10.11):
 * - `'...'` and `"..."` take backslash escapes and doubled quotes; `` `...` `` only doubled backticks.
 *   Under `NO_BACKSLASH_ESCAPES` or `ANSI_QUOTES` the server reads some texts differently; the
 *   consumers treat a string holding a backslash, and a double-quoted "string", with suspicion.
 * - `-- ` needs whitespace or a control character after the dashes (`1--x` is `1 - -x`); `#` and
 *   `-- ` run to `\n` (a lone `\r` does not end them).
 * - `/*! ... *\/`, `/*!50700 ... *\/` and MariaDB's `/*M!100100 ... *\/` are lexed as code, whatever
 *   the version number says (a server that runs them does so too: a string in them may hold
 *   `*\/`, a plain `/* *\/` comment inside ends at its own `*\/`). A server that skips one reads
 *   it as a comment up to the first `*\/`; `lexIsAmbiguous` flags that case. `/*+ hints *\/` are
 *   comments.
 * - `X'..'`, `B'..'` (single quotes only), `0x..` and `0b..` (lower-case x and b only) are
 *   binary literals; `_charset'..'`, `_charset".."` and `N'..'` are strings with their introducer.
 */

/** What kind of text a segment is. */
export type SegmentKind =
  /** Keywords, names, operators, whitespace, placeholders. */
  | 'code'
  /** A string literal, with its introducer (`_utf8mb4'x'`, `N'x'`) and quotes. */
  | 'string'
  /** A backtick-quoted identifier, with its backticks. */
  | 'identifier'
  /** A hex or bit-value literal: `X'4142'`, `0x4142`, `B'01'`, `0b01`. */
  | 'binary'
  /** A numeric literal: `42`, `1.5`, `.5e3`. */
  | 'number'
  /** `-- ...`, `# ...` (without the line break) or `/* ... *\/`. */
  | 'comment'
  /** The opening `/*!`, `/*!50700` or `/*M!100100` of an executable comment; what follows is code. */
  | 'exec-start'
  /** The `*\/` that closes an executable comment. */
  | 'exec-end'
  /** A string, identifier or comment that never ends: from its opening to the end of the text. */
  | 'unterminated';

/** What an `unterminated` segment failed to close. */
export type UnterminatedConstruct = 'string' | 'identifier' | 'comment' | 'executable comment';

/** A run of text `[start, end)` of one kind; the segments of a text cover it without gaps. */
export type Segment =
  | { readonly kind: Exclude<SegmentKind, 'unterminated'>; readonly start: number; readonly end: number }
  | {
      readonly kind: 'unterminated';
      readonly start: number;
      readonly end: number;
      /**
       * An executable comment left open is reported as an empty segment at the end of the text:
       * its content was code, and has been given as segments already.
       */
      readonly construct: UnterminatedConstruct;
    };

const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const BANG = 0x21;
const DOT = 0x2e;
const PLUS = 0x2b;
const UNDERSCORE = 0x5f;
const DIGIT_0 = 0x30;
const UPPER_M = 0x4d;
const LOWER_X = 0x78;
const LOWER_B = 0x62;
/** MariaDB reads up to six version digits after `/*!` (`/*!100100`), MySQL five. */
const MAX_VERSION_DIGITS = 6;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Characters of an unquoted identifier: ASCII letters, digits, `_`, `$`, and anything beyond ASCII. */
function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c === UNDERSCORE || c === 0x24 || c >= 0x80;
}

/** Index just past the quote closing a literal whose content starts at `from`, or -1. */
function closeQuoted(sql: string, from: number, quote: number, backslashEscapes: boolean): number {
  const n = sql.length;
  let k = from;
  while (k < n) {
    const c = sql.charCodeAt(k);
    if (c === BACKSLASH && backslashEscapes) {
      k += 2;
    } else if (c === quote) {
      if (sql.charCodeAt(k + 1) !== quote) return k + 1;
      k += 2;
    } else {
      k++;
    }
  }
  return -1;
}

/** End of a numeric literal starting at `from` (digits, `.`, exponent), or -1 when it runs into a name (`1abc`). */
function numberEnd(sql: string, from: number): number {
  const n = sql.length;
  let k = from;
  while (k < n && isDigit(sql.charCodeAt(k))) k++;
  if (sql.charCodeAt(k) === DOT) {
    k++;
    while (k < n && isDigit(sql.charCodeAt(k))) k++;
  }
  const e = sql.charCodeAt(k) | 0x20;
  if (e === 0x65) {
    let m = k + 1;
    const sign = sql.charCodeAt(m);
    if (sign === PLUS || sign === DASH) m++;
    if (isDigit(sql.charCodeAt(m))) {
      k = m;
      while (k < n && isDigit(sql.charCodeAt(k))) k++;
    }
  }
  return k < n && isWordChar(sql.charCodeAt(k)) ? -1 : k;
}

/** End of `0x41` / `0b01` when the word `[start, end)` is one, else -1 (`0x4g` and `0X41` are names). */
function prefixedBinaryEnd(sql: string, start: number, end: number): number {
  if (end - start < 3 || sql.charCodeAt(start) !== DIGIT_0) return -1;
  const marker = sql.charCodeAt(start + 1);
  if (marker !== LOWER_X && marker !== LOWER_B) return -1;
  for (let k = start + 2; k < end; k++) {
    const c = sql.charCodeAt(k);
    if (marker === LOWER_X ? !isHexDigit(c) : c !== 0x30 && c !== 0x31) return -1;
  }
  return end;
}

/**
 * The kind of literal a word of code starts when a quote follows it: `X'..'`/`B'..'` (binary),
 * `N'..'` and `_charset'..'`/`_charset".."` (string), else undefined (`abc'x'` is a name and a string).
 */
function prefixedLiteral(sql: string, start: number, end: number, quote: number): 'binary' | 'string' | undefined {
  const first = sql.charCodeAt(start);
  if (first === UNDERSCORE) return end - start > 1 ? 'string' : undefined;
  if (end - start !== 1 || quote !== SINGLE_QUOTE) return undefined;
  switch (first | 0x20) {
    case LOWER_X:
    case LOWER_B:
      return 'binary';
    case 0x6e: // n
      return 'string';
    default:
      return undefined;
  }
}

/**
 * Splits statement text into segments. Never throws: an unterminated string, identifier or
 * comment becomes a final `unterminated` segment.
 *
 * @example
 * lexSql("SELECT 'a' -- b").map((s) => s.kind); // ['code', 'string', 'code', 'comment']
 * lexSql('/*!80000 SET @a = 1 *\/').map((s) => s.kind); // ['exec-start', 'code', 'number', 'code', 'exec-end']
 */
export function lexSql(sql: string): Segment[] {
  const segments: Segment[] = [];
  const n = sql.length;
  let codeStart = 0;
  let execDepth = 0;
  let i = 0;

  const emit = (kind: Exclude<SegmentKind, 'unterminated'>, start: number, end: number): void => {
    if (codeStart < start) segments.push({ kind: 'code', start: codeStart, end: start });
    segments.push({ kind, start, end });
    codeStart = end;
    i = end;
  };
  const unterminated = (construct: UnterminatedConstruct, start: number): Segment[] => {
    if (codeStart < start) segments.push({ kind: 'code', start: codeStart, end: start });
    segments.push({ kind: 'unterminated', start, end: n, construct });
    return segments;
  };

  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (c === SINGLE_QUOTE || c === DOUBLE_QUOTE || c === BACKTICK) {
      const end = closeQuoted(sql, i + 1, c, c !== BACKTICK);
      if (end < 0) return unterminated(c === BACKTICK ? 'identifier' : 'string', i);
      emit(c === BACKTICK ? 'identifier' : 'string', i, end);
    } else if (c === HASH || (c === DASH && next === DASH && !(sql.charCodeAt(i + 2) > 0x20))) {
      // `!(x > 0x20)` is also true for NaN: `--` at the very end of the text is a comment.
      const lineEnd = sql.indexOf('\n', i);
      emit('comment', i, lineEnd < 0 ? n : lineEnd);
    } else if (c === SLASH && next === STAR) {
      const third = sql.charCodeAt(i + 2);
      const bang = third === BANG ? i + 2 : third === UPPER_M && sql.charCodeAt(i + 3) === BANG ? i + 3 : -1;
      if (bang >= 0) {
        let end = bang + 1;
        while (end < n && end - bang <= MAX_VERSION_DIGITS && isDigit(sql.charCodeAt(end))) end++;
        execDepth++;
        emit('exec-start', i, end);
      } else {
        const close = sql.indexOf('*/', i + 2);
        if (close < 0) return unterminated('comment', i);
        emit('comment', i, close + 2);
      }
    } else if (c === STAR && next === SLASH && execDepth > 0) {
      execDepth--;
      emit('exec-end', i, i + 2);
    } else if (isWordChar(c)) {
      let end = i + 1;
      while (end < n && isWordChar(sql.charCodeAt(end))) end++;
      const after = sql.charCodeAt(end);
      const literal = after === SINGLE_QUOTE || after === DOUBLE_QUOTE ? prefixedLiteral(sql, i, end, after) : undefined;
      if (literal !== undefined) {
        const close = closeQuoted(sql, end + 1, after, true);
        if (close < 0) return unterminated('string', i);
        emit(literal, i, close);
      } else if (isDigit(c)) {
        const binaryEnd = prefixedBinaryEnd(sql, i, end);
        const numericEnd = binaryEnd < 0 ? numberEnd(sql, i) : -1;
        if (binaryEnd >= 0) emit('binary', i, binaryEnd);
        else if (numericEnd >= 0) emit('number', i, numericEnd);
        else i = end;
      } else {
        i = end;
      }
    } else if (c === DOT && isDigit(next) && !(i > 0 && isWordChar(sql.charCodeAt(i - 1)))) {
      const end = numberEnd(sql, i + 1);
      if (end >= 0) emit('number', i, end);
      else i++;
    } else {
      i++;
    }
  }
  if (codeStart < n) segments.push({ kind: 'code', start: codeStart, end: n });
  if (execDepth > 0) segments.push({ kind: 'unterminated', start: n, end: n, construct: 'executable comment' });
  return segments;
}

const NOT_A_NAME_CHAR = /[^\w$\u0080-\uffff]/g;

/** A quoted name `[start, end)` (quotes included) as one unquoted word, padded with spaces. */
function bareName(sql: string, start: number, end: number): string {
  return ` ${sql.slice(start + 1, end - 1).replace(NOT_A_NAME_CHAR, '_')} `;
}

/**
 * The text the server reads as keywords and names, for pattern checks that must not be fooled by
 * literals or comments: string literals become `''`, binary and numeric literals `0`, comments
 * and executable-comment markers a space. A quoted identifier becomes one bare word, its other
 * characters turned into `_`: `` `GET_LOCK`( `` is a call, `` `lock tables` `` one name
 * (`lock_tables`), `` `password hash` `` still a name holding PASSWORD. A double-quoted string is
 * treated the same way, since under ANSI_QUOTES it is a name: for the consumers a false match is
 * cheap, a missed one is not. Every piece is padded with spaces so that tokens never merge. An
 * unterminated segment contributes nothing; callers decide what that means.
 *
 * @example
 * codeText(sql, lexSql(sql)); // "SELECT /*! GET_LOCK('a', 1) *\/ -- x" -> "SELECT   GET_LOCK( '' ,  0 )    "
 */
export function codeText(sql: string, segments: readonly Segment[]): string {
  let out = '';
  for (const segment of segments) {
    switch (segment.kind) {
      case 'code':
        out += sql.slice(segment.start, segment.end);
        break;
      case 'string':
        out += sql.charCodeAt(segment.start) === DOUBLE_QUOTE ? bareName(sql, segment.start, segment.end) : " '' ";
        break;
      case 'identifier':
        out += bareName(sql, segment.start, segment.end);
        break;
      case 'binary':
      case 'number':
        out += ' 0 ';
        break;
      case 'comment':
      case 'exec-start':
      case 'exec-end':
      case 'unterminated':
        out += ' ';
        break;
    }
  }
  return out;
}

/**
 * Whether the server might read the text differently from `lexSql`:
 * - something is unterminated;
 * - a literal holds a backslash, which `NO_BACKSLASH_ESCAPES` makes a plain character, moving
 *   where the literal ends;
 * - there is a conditional executable comment (`/*!50700`, `/*M!`): a server that skips it (too
 *   old, or MySQL for `/*M!`) reads it as a plain comment ending at the first `*\/`, quotes and
 *   all, where `lexSql` lexes its content as code.
 *
 * @example
 * lexIsAmbiguous(sql, lexSql(sql)); // true for "SELECT 'a\\', 'b'"
 */
export function lexIsAmbiguous(sql: string, segments: readonly Segment[]): boolean {
  for (const segment of segments) {
    switch (segment.kind) {
      case 'unterminated':
        return true;
      case 'string':
      case 'binary': {
        const backslash = sql.indexOf('\\', segment.start);
        if (backslash >= 0 && backslash < segment.end) return true;
        break;
      }
      case 'exec-start':
        // Longer than `/*!`: a version number or MariaDB's `M`.
        if (segment.end - segment.start > 3) return true;
        break;
      case 'code':
      case 'identifier':
      case 'number':
      case 'comment':
      case 'exec-end':
        break;
    }
  }
  return false;
}
