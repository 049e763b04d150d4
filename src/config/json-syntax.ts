/**
 * Where a JSON text first breaks the grammar (RFC 8259), as line and column.
 *
 * `JSON.parse` says where, but quotes the text around it (`Unexpected token 'S', "S3cr3t-PW-zz"
 * is not valid JSON`), and a config file may hold a password; its message never reaches ours.
 * This scanner only locates the error; values still come from `JSON.parse`.
 */

/** A 1-based line and column (in UTF-16 code units, as editors count them). */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** Deeper nesting than this is not scanned (no config file needs it); the position is then unknown. */
const MAX_DEPTH = 512;

/** Unwinds the scanner from the point of failure; never escapes this module. */
class SyntaxStop extends Error {
  constructor(readonly offset: number | undefined) {
    super('JSON syntax error');
  }
}

/** The position of the first syntax error in `text`, or undefined when none is found. */
export function jsonErrorPosition(text: string): TextPosition | undefined {
  const offset = jsonErrorOffset(text);
  return offset === undefined ? undefined : positionOf(text, offset);
}

function jsonErrorOffset(text: string): number | undefined {
  let at = 0;
  const fail = (offset = at): never => {
    throw new SyntaxStop(offset);
  };
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text.charAt(at))) at++;
  };
  const literal = (word: string): void => {
    for (const char of word) {
      if (text.charAt(at) !== char) fail();
      at++;
    }
  };
  const digits = (): void => {
    if (!/[0-9]/.test(text.charAt(at))) fail();
    while (/[0-9]/.test(text.charAt(at))) at++;
  };
  const number = (): void => {
    if (text.charAt(at) === '-') at++;
    if (text.charAt(at) === '0') at++;
    else digits();
    if (text.charAt(at) === '.') {
      at++;
      digits();
    }
    if (text.charAt(at) === 'e' || text.charAt(at) === 'E') {
      at++;
      if (text.charAt(at) === '+' || text.charAt(at) === '-') at++;
      digits();
    }
  };
  const string = (): void => {
    at++; // the opening quote
    for (;;) {
      if (at >= text.length) fail();
      const code = text.charCodeAt(at);
      if (code < 0x20) fail();
      if (text.charAt(at) === '"') {
        at++;
        return;
      }
      if (text.charAt(at) === '\\') {
        at++;
        const escape = text.charAt(at);
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail();
          at += 4;
        } else if (!'"\\/bfnrt'.includes(escape) || escape === '') {
          fail();
        }
      }
      at++;
    }
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) throw new SyntaxStop(undefined);
    space();
    const char = text.charAt(at);
    if (char === '{') container(depth, '}', () => {
      space();
      if (text.charAt(at) !== '"') fail();
      string();
      space();
      if (text.charAt(at) !== ':') fail();
      at++;
      value(depth + 1);
    });
    else if (char === '[') container(depth, ']', () => {
      value(depth + 1);
    });
    else if (char === '"') string();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else if (char === '-' || /[0-9]/.test(char)) number();
    else fail();
    space();
  };
  const container = (depth: number, close: string, member: () => void): void => {
    at++; // the opening bracket
    space();
    if (text.charAt(at) === close) {
      at++;
      return;
    }
    for (;;) {
      member();
      space();
      const char = text.charAt(at);
      at++;
      if (char === close) return;
      if (char !== ',') fail(at - 1);
    }
  };

  try {
    value(0);
    if (at < text.length) fail();
    return undefined;
  } catch (err) {
    if (err instanceof SyntaxStop) return err.offset;
    throw err;
  }
}

function positionOf(text: string, offset: number): TextPosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
