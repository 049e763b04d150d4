const QUOTED = String.raw`'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"`;

/** `IDENTIFIED BY '...'`, `IDENTIFIED WITH plugin AS '...'`, `USING PASSWORD('...')`. */
const IDENTIFIED = new RegExp(String.raw`(\bIDENTIFIED\s+(?:(?:VIA|WITH)\s+\w+\s+)?(?:BY|AS|USING)\s+(?:PASSWORD\s*\(\s*)?)(${QUOTED})`, 'gi');
/** `SET PASSWORD = '...'`, `PASSWORD('...')`. */
const PASSWORD = new RegExp(String.raw`(\bPASSWORD\s*(?:=\s*|\(\s*)(?:PASSWORD\s*\(\s*)?)(${QUOTED})`, 'gi');

/**
 * The statement as it may be logged: passwords written as literals into account-management
 * statements are replaced. Parameter values are never logged at all; this covers the statements
 * that carry a secret in their text.
 */
export function redactSql(sql: string): string {
  return sql.replace(IDENTIFIED, "$1'[redacted]'").replace(PASSWORD, "$1'[redacted]'");
}
