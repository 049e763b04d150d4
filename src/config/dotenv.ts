/**
 * A strict `.env` parser.
 *
 * Node's `util.parseEnv` skips a line it cannot read (`DB_PORT 3306`, an unterminated quote)
 * without a word, so the application silently connects with the default instead. This parser
 * accepts the usual dotenv forms and reports every other line by number; an error never repeats
 * the line's text, which may hold a secret.
 *
 * Accepted, one per line:
 * - blank lines and `# comments`;
 * - `NAME=value`, optionally `export NAME=value`, spaces allowed around `=`; NAME is
 *   letters, digits and `_`, not starting with a digit;
 * - unquoted values, trimmed; ` # comment` after whitespace ends them (`a#b` keeps its `#`);
 * - `'single-quoted'` values, taken literally;
 * - `"double-quoted"` values, where `\n`, `\r`, `\t`, `\"` and `\\` are escapes (other
 *   backslashes are kept);
 * - quoted values may span lines (a PEM key); only whitespace and a `# comment` may follow the
 *   closing quote.
 * A later line for the same NAME wins.
 */

/** A line `parseDotenv` could not read; `message` never quotes the line. */
export interface DotenvError {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

export interface DotenvResult {
  readonly values: ReadonlyMap<string, string>;
  readonly errors: readonly DotenvError[];
}

const ASSIGNMENT = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*/;
const AFTER_QUOTE = /^[ \t]*(?:#.*)?$/;
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['"', '"'],
  ['\\', '\\'],
]);

/** Parses the text of a `.env` file. */
export function parseDotenv(text: string): DotenvResult {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const values = new Map<string, string>();
  const errors: DotenvError[] = [];
  let index = 0;
  while (index < lines.length) {
    const lineNumber = index + 1;
    const line = (lines[index] ?? '').trimStart();
    index++;
    if (line === '' || line.startsWith('#')) continue;
    const assignment = ASSIGNMENT.exec(line);
    const name = assignment?.[1];
    if (assignment === null || name === undefined) {
      errors.push({ line: lineNumber, message: 'not a NAME=value line (the line is not shown: it may hold a secret)' });
      continue;
    }
    const rest = line.slice(assignment[0].length);
    const quote = rest[0];
    if (quote !== '"' && quote !== "'") {
      values.set(name, unquoted(rest));
      continue;
    }
    // A quoted value ends at its closing quote, which may be on a later line.
    let body = rest.slice(1);
    let closed = closingQuote(body, quote);
    while (closed === undefined && index < lines.length) {
      body = `${body}\n${lines[index] ?? ''}`;
      index++;
      closed = closingQuote(body, quote);
    }
    if (closed === undefined) {
      errors.push({ line: lineNumber, message: `the value of ${name} opens a ${quote} quote that is never closed` });
      continue;
    }
    if (!AFTER_QUOTE.test(body.slice(closed + 1))) {
      errors.push({ line: lineNumber, message: `the value of ${name} has more text after its closing ${quote} quote; only a # comment may follow` });
      continue;
    }
    const inner = body.slice(0, closed);
    values.set(name, quote === '"' ? unescape(inner) : inner);
  }
  return { values, errors };
}

/** An unquoted value: up to a whitespace-preceded `#`, trimmed. */
function unquoted(rest: string): string {
  const comment = /[ \t]#/.exec(rest);
  return (comment === null ? rest : rest.slice(0, comment.index)).trim();
}

/** The index of the quote that closes `body` (which starts after the opening quote). */
function closingQuote(body: string, quote: '"' | "'"): number | undefined {
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (quote === '"' && char === '\\') {
      i++; // an escaped character never closes the value
      continue;
    }
    if (char === quote) return i;
  }
  return undefined;
}

function unescape(inner: string): string {
  return inner.replace(/\\(.)/g, (escape, char: string) => ESCAPES.get(char) ?? escape);
}
