import { describe, expect, it } from 'vitest';
import { DbSwitchError } from '../../src/errors.js';
import { splitStatements } from '../../src/sql/split-statements.js';

function splitError(text: string): DbSwitchError {
  try {
    splitStatements(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DbSwitchError);
    expect((err as DbSwitchError).code).toBe('ECONFIG');
    return err as DbSwitchError;
  }
  throw new Error('expected an ECONFIG error');
}

describe('splitStatements', () => {
  it('splits at semicolons and trims', () => {
    expect(splitStatements("SET time_zone = '+00:00';\n  SET NAMES utf8mb4 ;SET @a = 1")).toEqual([
      "SET time_zone = '+00:00'",
      'SET NAMES utf8mb4',
      'SET @a = 1',
    ]);
  });

  it('drops empty statements', () => {
    expect(splitStatements(';; SET @a = 1;;\n;  ')).toEqual(['SET @a = 1']);
    expect(splitStatements('')).toEqual([]);
    expect(splitStatements(' \n\t ')).toEqual([]);
  });

  it('keeps semicolons in strings, quoted identifiers and comments', () => {
    expect(
      splitStatements(String.raw`SET @a = 'x;y', @b = "p;q", @c = 'it''s;', @d = 'a\';b'; SELECT 1 AS ` + '`;` /* ; */ -- ;\n, 2 # ;\n; SELECT 3'),
    ).toEqual([String.raw`SET @a = 'x;y', @b = "p;q", @c = 'it''s;', @d = 'a\';b'`, 'SELECT 1 AS `;` /* ; */ -- ;\n, 2', 'SELECT 3']);
  });

  it('drops statements that are only comments, and comments around statements', () => {
    expect(splitStatements('-- setup\n/* a */ SET @a = 1; -- trailing\n# only a comment\n;\n/* c */;SET @b = 2 /* d */')).toEqual([
      'SET @a = 1',
      'SET @b = 2',
    ]);
  });

  it('keeps executable comments, which the server runs, and does not split inside them', () => {
    expect(splitStatements("/*!40101 SET NAMES utf8mb4 */; /*M!100300 SET @a = ';' */;")).toEqual([
      '/*!40101 SET NAMES utf8mb4 */',
      "/*M!100300 SET @a = ';' */",
    ]);
    // A ; inside one is the server's to reject: sent as one statement, not cut in half.
    expect(splitStatements('/*! SET @a = 1; SET @b = 2 */; SET @c = 3')).toEqual(['/*! SET @a = 1; SET @b = 2 */', 'SET @c = 3']);
  });

  it('names the statement with an unterminated quote by number, without its text', () => {
    const err = splitError("SET @a = 1; -- first\nSET @b = 'pw-secret; SET @c = 3");
    expect(err.message).toContain('statement 2');
    expect(err.message).toContain('unterminated string');
    expect(err.message).not.toContain('pw-secret');
    expect(err.message).not.toContain('@b');
  });

  it('counts only real statements when numbering (comment-only ones are not statements)', () => {
    expect(splitError('-- a\n; SET @a = 1; /* b */; SET @b = `x').message).toContain('statement 2 has an unterminated identifier');
  });

  it('reports an unterminated comment or executable comment', () => {
    expect(splitError('SET @a = 1 /* no end').message).toContain('statement 1 has an unterminated comment');
    expect(splitError('SET @a = 1; /*!50000 SET @b = 2').message).toContain('statement 2 has an unterminated executable comment');
  });
});
