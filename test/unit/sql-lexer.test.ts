import { describe, expect, it } from 'vitest';
import { codeText, lexIsAmbiguous, lexSql, type Segment } from '../../src/sql/lexer.js';

/** The segments as `kind:text`, the easiest form to read in a failing assertion. */
function pieces(sql: string): string[] {
  return lexSql(sql).map((s) => `${s.kind}:${sql.slice(s.start, s.end)}`);
}

function literals(sql: string): string[] {
  return lexSql(sql)
    .filter((s) => s.kind !== 'code')
    .map((s) => `${s.kind}:${sql.slice(s.start, s.end)}`);
}

describe('lexSql', () => {
  it('tells code from strings, identifiers, numbers and comments', () => {
    expect(pieces("SELECT 'a' -- b")).toEqual(['code:SELECT ', "string:'a'", 'code: ', 'comment:-- b']);
    expect(pieces('SELECT `t`.x FROM t # tail\nWHERE 1')).toEqual([
      'code:SELECT ',
      'identifier:`t`',
      'code:.x FROM t ',
      'comment:# tail',
      'code:\nWHERE ',
      'number:1',
    ]);
  });

  it('reads backslash escapes and doubled quotes in strings, doubled backticks in identifiers', () => {
    expect(literals(String.raw`SELECT 'a\'b', "c""d", 'e''f', "g\"h", 'i\\', ` + '`j``k`, `l\\`')).toEqual([
      String.raw`string:'a\'b'`,
      'string:"c""d"',
      "string:'e''f'",
      String.raw`string:"g\"h"`,
      String.raw`string:'i\\'`,
      'identifier:`j``k`',
      // A backslash is an ordinary character in a quoted identifier.
      'identifier:`l\\`',
    ]);
  });

  it('keeps a charset introducer or N with its string', () => {
    expect(literals(`SELECT _utf8mb4'a', _binary"b", N'c', n'd', _latin1'e' COLLATE latin1_bin`)).toEqual([
      "string:_utf8mb4'a'",
      'string:_binary"b"',
      "string:N'c'",
      "string:n'd'",
      "string:_latin1'e'",
    ]);
    // N"x" is the column N with the alias "x" on the server; abc'x' a name and a string.
    expect(literals(`SELECT N"x", abc'y', _ 'z'`)).toEqual(['string:"x"', "string:'y'", "string:'z'"]);
  });

  it('reads hex and bit-value literals in their four forms', () => {
    expect(literals("SELECT X'4142', x'41', B'01', b'1', 0x4142, 0b0101, _binary X'41'")).toEqual([
      "binary:X'4142'",
      "binary:x'41'",
      "binary:B'01'",
      "binary:b'1'",
      'binary:0x4142',
      'binary:0b0101',
      "binary:X'41'",
    ]);
    // 0X41 (upper-case X) and 0x4g are names on the server; X"41" is the column X.
    expect(literals('SELECT 0X41, 0x4g, 0b012, 0x')).toEqual([]);
    expect(literals('SELECT X"41"')).toEqual(['string:"41"']);
  });

  it('reads numbers but not names that start with digits', () => {
    expect(literals('SELECT 42, 1.5, .5e3, 1.e2, 1e+10, 7E-3, 1abc, t1, 123e')).toEqual([
      'number:42',
      'number:1.5',
      'number:.5e3',
      'number:1.e2',
      'number:1e+10',
      'number:7E-3',
    ]);
  });

  it('takes `--` as a comment only before whitespace, a control character or the end', () => {
    expect(literals('SELECT 1--2')).toEqual(['number:1', 'number:2']);
    expect(literals('SELECT 1 --\t2')).toEqual(['number:1', 'comment:--\t2']);
    expect(literals('SELECT 1 --\n')).toEqual(['number:1', 'comment:--']);
    expect(literals('SELECT 1 --')).toEqual(['number:1', 'comment:--']);
  });

  it('ends line comments at \\n only, as the server does (a lone \\r does not end them)', () => {
    expect(literals('SELECT 1 # a\r, 2\n, 3')).toEqual(['number:1', 'comment:# a\r, 2', 'number:3']);
  });

  it('lexes the content of executable comments as code', () => {
    expect(pieces('/*!80000 SET @a = 1 */')).toEqual(['exec-start:/*!80000', 'code: SET @a = ', 'number:1', 'code: ', 'exec-end:*/']);
    expect(pieces("SELECT /*M!100100 'x' */")).toEqual(['code:SELECT ', 'exec-start:/*M!100100', 'code: ', "string:'x'", 'code: ', 'exec-end:*/']);
    expect(pieces('/*!SET NAMES utf8mb4*/')).toEqual(['exec-start:/*!', 'code:SET NAMES utf8mb4', 'exec-end:*/']);
    // MariaDB reads at most six version digits.
    expect(pieces('/*!1001001*/')).toEqual(['exec-start:/*!100100', 'number:1', 'exec-end:*/']);
  });

  it("follows the server inside executable comments: a string may hold */, a plain comment ends at its own */", () => {
    // MariaDB 10.11: SELECT /*! '*/' */ AS x returns '*/'; SELECT 1 /*! , 2 /* c */ , 3 */ returns 1, 2, 3.
    expect(literals("SELECT /*! '*/' */ AS x")).toEqual(['exec-start:/*!', "string:'*/'", 'exec-end:*/']);
    expect(literals('SELECT 1 /*! , 2 /* c */ , 3 */')).toEqual([
      'number:1',
      'exec-start:/*!',
      'number:2',
      'comment:/* c */',
      'number:3',
      'exec-end:*/',
    ]);
    // A # comment inside runs to the end of the line, past a */ (MariaDB returns 1, 2, 3 here too).
    expect(literals('SELECT 1 /*!50000 , 2 # x */\n, 3 */')).toEqual([
      'number:1',
      'exec-start:/*!50000',
      'number:2',
      'comment:# x */',
      'number:3',
      'exec-end:*/',
    ]);
  });

  it('takes /*m! (lower-case), /*+ hints */ and a */ outside an executable comment for what the server does', () => {
    expect(literals('SELECT 1 /*m! , 2 */')).toEqual(['number:1', 'comment:/*m! , 2 */']);
    expect(literals('SELECT /*+ MAX_EXECUTION_TIME(1) */ 1')).toEqual(['comment:/*+ MAX_EXECUTION_TIME(1) */', 'number:1']);
    expect(pieces('SELECT 2*/1')).toEqual(['code:SELECT ', 'number:2', 'code:*/', 'number:1']);
  });

  it('reports what is left unterminated instead of throwing', () => {
    const last = (sql: string): Segment | undefined => lexSql(sql).at(-1);
    expect(last("SELECT 'abc")).toEqual({ kind: 'unterminated', start: 7, end: 11, construct: 'string' });
    expect(last(String.raw`SELECT 'abc\'`)).toMatchObject({ kind: 'unterminated', construct: 'string' });
    expect(last('SELECT "abc')).toMatchObject({ kind: 'unterminated', construct: 'string' });
    expect(last("SELECT _utf8mb4'abc")).toMatchObject({ kind: 'unterminated', start: 7, construct: 'string' });
    expect(last("SELECT X'41")).toMatchObject({ kind: 'unterminated', start: 7, construct: 'string' });
    expect(last('SELECT `abc')).toMatchObject({ kind: 'unterminated', construct: 'identifier' });
    expect(last('SELECT 1 /* abc')).toMatchObject({ kind: 'unterminated', start: 9, end: 15, construct: 'comment' });
    expect(last('SELECT 1 /*/')).toMatchObject({ kind: 'unterminated', construct: 'comment' });
    // The content of an open executable comment was code: an empty segment at the end says so.
    expect(last('SELECT 1 /*! , 2')).toEqual({ kind: 'unterminated', start: 16, end: 16, construct: 'executable comment' });
  });

  it('covers any text with contiguous segments and never throws (random texts)', () => {
    const alphabet = ["'", '"', '`', '\\', '-', '-', ' ', '\n', '\r', '#', '/', '*', '!', 'M', '5', '0', 'x', 'X', 'b', '_', 'N', '.', 'e', '+', ';', 'a', 'é'];
    let seed = 20240601;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 3000; run++) {
      let sql = '';
      const length = Math.floor(random() * 30);
      for (let k = 0; k < length; k++) sql += alphabet[Math.floor(random() * alphabet.length)] ?? '';
      const segments = lexSql(sql);
      let at = 0;
      for (const [index, segment] of segments.entries()) {
        expect(segment.start, sql).toBe(at);
        expect(segment.end >= segment.start, sql).toBe(true);
        if (segment.kind === 'unterminated') expect(index, sql).toBe(segments.length - 1);
        else expect(segment.end > segment.start, sql).toBe(true);
        at = segment.end;
      }
      expect(at, sql).toBe(sql.length);
    }
  });
});

describe('codeText', () => {
  const text = (sql: string): string => codeText(sql, lexSql(sql)).replace(/\s+/g, ' ').trim();

  it('blanks literals and comments and keeps executable code', () => {
    expect(text("SELECT /*! GET_LOCK('a', 1) */ -- GET_LOCK(")).toBe("SELECT GET_LOCK( '' , 0 )");
    expect(text("SELECT 'GET_LOCK(' /* LOCK TABLES */ # XA")).toBe("SELECT ''");
  });

  it('gives quoted names as one bare word, so `GET_LOCK`( reads as the call it is', () => {
    expect(text("SELECT `GET_LOCK`('a', 1)")).toBe("SELECT GET_LOCK ( '' , 0 )");
    expect(text('SELECT `lock tables`, `a``b` FROM t')).toBe('SELECT lock_tables , a__b FROM t');
    // Under ANSI_QUOTES "x" is a name: its content counts too.
    expect(text('SELECT "password" FROM t')).toBe('SELECT password FROM t');
  });

  it('never lets tokens merge across a removed comment', () => {
    expect(text('LOCK/**/TABLES')).toBe('LOCK TABLES');
  });
});

describe('lexIsAmbiguous', () => {
  const ambiguous = (sql: string): boolean => lexIsAmbiguous(sql, lexSql(sql));

  it('flags texts the server may read differently', () => {
    expect(ambiguous("SELECT 'abc")).toBe(true);
    expect(ambiguous('SELECT 1 /*! , 2')).toBe(true);
    expect(ambiguous(String.raw`SELECT 'a\'', 'b'`)).toBe(true);
    expect(ambiguous(String.raw`SELECT X'4\'`)).toBe(true);
    expect(ambiguous('SELECT 1 /*!50700 , 2 */')).toBe(true);
    expect(ambiguous('SELECT 1 /*M! , 2 */')).toBe(true);
  });

  it('trusts plain texts', () => {
    expect(ambiguous("SELECT 'a''b', `c\\d` /* e\\f */ /*! , 2 */")).toBe(false);
  });
});
