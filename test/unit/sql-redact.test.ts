import { describe, expect, it } from 'vitest';
import { redactSql } from '../../src/sql/redact-sql.js';

const R = "'[redacted]'";

/** A redaction case: the text, what must be gone, and what must still be there. */
interface Case {
  readonly sql: string;
  readonly secrets: readonly string[];
  readonly keep: readonly string[];
}

const cases: Record<string, Case> = {
  'SET PASSWORD FOR u = literal': { sql: "SET PASSWORD FOR app = 'pw-1a'", secrets: ['pw-1a'], keep: [`SET PASSWORD FOR app = ${R}`] },
  'SET PASSWORD = PASSWORD(literal)': { sql: "SET PASSWORD = PASSWORD('pw-1b')", secrets: ['pw-1b'], keep: [`SET PASSWORD = PASSWORD(${R})`] },
  'SET PASSWORD = OLD_PASSWORD(literal)': { sql: "SET PASSWORD FOR u = OLD_PASSWORD('pw-1c')", secrets: ['pw-1c'], keep: [`OLD_PASSWORD(${R})`] },
  'ALTER USER IDENTIFIED BY ... REPLACE old': {
    sql: "ALTER USER u IDENTIFIED BY 'pw-2a' REPLACE 'old-2a'",
    secrets: ['pw-2a', 'old-2a'],
    keep: [`ALTER USER u IDENTIFIED BY ${R} REPLACE ${R}`],
  },
  'ALTER USER REPLACE old (no IDENTIFIED)': { sql: "ALTER USER u REPLACE 'old-2b'", secrets: ['old-2b'], keep: [`ALTER USER u REPLACE ${R}`] },
  'a comment between IDENTIFIED and BY': {
    sql: "CREATE USER u IDENTIFIED /* c */ BY 'pw-3'",
    secrets: ['pw-3'],
    keep: [`CREATE USER u IDENTIFIED /* c */ BY ${R}`],
  },
  'a charset introducer': { sql: "ALTER USER u IDENTIFIED BY _utf8mb4'pw-4'", secrets: ['pw-4'], keep: [`IDENTIFIED BY ${R}`] },
  'a hex literal': { sql: "ALTER USER u IDENTIFIED BY X'414243'", secrets: ['414243'], keep: [`IDENTIFIED BY ${R}`] },
  'a 0x literal': { sql: 'SET PASSWORD = 0x41424344', secrets: ['41424344'], keep: [`SET PASSWORD = ${R}`] },
  'a bit literal': { sql: "ALTER USER u IDENTIFIED BY B'01000001'", secrets: ['01000001'], keep: [`IDENTIFIED BY ${R}`] },
  'IDENTIFIED VIA ... USING PASSWORD()': {
    sql: "CREATE USER u IDENTIFIED VIA ed25519 USING PASSWORD('pw-5')",
    secrets: ['pw-5'],
    keep: [`IDENTIFIED VIA ed25519 USING PASSWORD(${R})`],
  },
  'IDENTIFIED WITH plugin AS hash': {
    sql: "CREATE USER u IDENTIFIED WITH mysql_native_password AS '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'",
    secrets: ['94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'],
    keep: [`IDENTIFIED WITH mysql_native_password AS ${R}`],
  },
  'MySQL multi-factor IDENTIFIED ... AND IDENTIFIED': {
    sql: "CREATE USER u IDENTIFIED BY 'pw-6a' AND IDENTIFIED WITH authentication_ldap_simple BY 'pw-6b'",
    secrets: ['pw-6a', 'pw-6b'],
    keep: ['AND IDENTIFIED WITH authentication_ldap_simple BY'],
  },
  'CREATE SERVER ... OPTIONS (PASSWORD)': {
    sql: "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'db.internal', USER 'repl', PASSWORD 'pw-7')",
    secrets: ['pw-7', 'repl'],
    keep: [`CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST ${R}, USER ${R}, PASSWORD ${R})`],
  },
  'ALTER SERVER without a PASSWORD word': {
    sql: "ALTER SERVER s OPTIONS (USER 'pw-7b')",
    secrets: ['pw-7b'],
    keep: [`ALTER SERVER s OPTIONS (USER ${R})`],
  },
  'CHANGE MASTER TO MASTER_PASSWORD': {
    sql: "CHANGE MASTER TO MASTER_HOST='primary', MASTER_PASSWORD='pw-8'",
    secrets: ['pw-8'],
    keep: [`CHANGE MASTER TO MASTER_HOST=${R}, MASTER_PASSWORD=${R}`],
  },
  'CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD with double quotes': {
    sql: 'CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = "pw-9"',
    secrets: ['pw-9'],
    keep: [`CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = ${R}`],
  },
  'START SLAVE USER= PASSWORD=': { sql: "START SLAVE USER='repl' PASSWORD='pw-9b'", secrets: ['pw-9b'], keep: [`START SLAVE USER=${R} PASSWORD=${R}`] },
  'GRANT ... IDENTIFIED BY': {
    sql: "GRANT SELECT ON app.* TO 'u'@'%' IDENTIFIED BY 'pw-10'",
    secrets: ['pw-10'],
    keep: [`GRANT SELECT ON app.* TO ${R}@${R} IDENTIFIED BY ${R}`],
  },
  'AES_ENCRYPT key': { sql: "SELECT AES_ENCRYPT('data', 'key-11')", secrets: ['key-11', 'data'], keep: [`SELECT AES_ENCRYPT(${R}, ${R})`] },
  'AES_DECRYPT, DES_ENCRYPT, ENCODE, DECODE keys': {
    sql: "SELECT AES_DECRYPT(c, 'k-12a'), DES_ENCRYPT(c, 'k-12b'), ENCODE(c, 'k-12c'), DECODE(c, 'k-12d') FROM t",
    secrets: ['k-12a', 'k-12b', 'k-12c', 'k-12d'],
    keep: [`AES_DECRYPT(c, ${R}), DES_ENCRYPT(c, ${R})`],
  },
  'a numeric key or password': {
    sql: 'SELECT AES_ENCRYPT(c, 271828) FROM t; SET PASSWORD = PASSWORD(314159)',
    secrets: ['271828', '314159'],
    keep: [`AES_ENCRYPT(c, ${R})`, `PASSWORD(${R})`],
  },
  'an executable comment': {
    sql: "/*!80000 ALTER USER u IDENTIFIED BY 'pw-13' */",
    secrets: ['pw-13'],
    keep: [`/*!80000 ALTER USER u IDENTIFIED BY ${R}`],
  },
  'an executable comment without a version': {
    sql: "/*! ALTER USER u IDENTIFIED BY 'pw-13b' */",
    secrets: ['pw-13b'],
    keep: [`/*! ALTER USER u IDENTIFIED BY ${R} */`],
  },
  "a MariaDB /*M! comment and a string holding '*/'": {
    sql: "/*M!100100 SET PASSWORD = PASSWORD('pw-*/-14') */",
    secrets: ['pw-', '-14'],
    keep: ['/*M!100100 SET PASSWORD = PASSWORD('],
  },
  'mixed case': { sql: "alter user u Identified By 'pw-15'", secrets: ['pw-15'], keep: [`alter user u Identified By ${R}`] },
  'newlines and indentation': {
    sql: "CREATE USER\n  u\nIDENTIFIED\n    BY\n'pw-16'\n",
    secrets: ['pw-16'],
    keep: [`CREATE USER\n  u\nIDENTIFIED\n    BY\n${R}\n`],
  },
  'comments of every kind between tokens': {
    sql: "ALTER /* a */ USER -- b\n u # c\n IDENTIFIED/**/BY'pw-17'",
    secrets: ['pw-17'],
    keep: [`ALTER /* a */ USER -- b\n u # c\n IDENTIFIED/**/BY${R}`],
  },
  'a user variable named like a secret': { sql: "SET @api_token = 'tok-18'", secrets: ['tok-18'], keep: [`SET @api_token = ${R}`] },
  'a backtick-quoted column': {
    sql: "UPDATE users SET `password` = 'pw-19' WHERE id = ?",
    secrets: ['pw-19'],
    keep: ['UPDATE users SET `password` = ', 'WHERE id = ?'],
  },
  'a double-quoted column (ANSI_QUOTES)': { sql: `UPDATE users SET "secret" = 'pw-20'`, secrets: ['pw-20'], keep: ['UPDATE users SET'] },
  'a FEDERATED connection string': {
    sql: "CREATE TABLE f (id INT) ENGINE=FEDERATED CONNECTION='mysql://app:pw-21@db/app/t'",
    secrets: ['pw-21'],
    keep: [`ENGINE=FEDERATED CONNECTION=${R}`],
  },
  'a column named password_reset (names count: decided, see redactSql)': {
    sql: "SELECT * FROM password_reset WHERE code = 'c-22' AND id = ?",
    secrets: ['c-22'],
    keep: [`SELECT * FROM password_reset WHERE code = ${R} AND id = ?`],
  },
};

describe('redactSql hides every literal of a statement that touches credentials', () => {
  for (const [name, { sql, secrets, keep }] of Object.entries(cases)) {
    it(name, () => {
      const logged = redactSql(sql);
      for (const secret of secrets) expect(logged).not.toContain(secret);
      for (const part of keep) expect(logged).toContain(part);
    });
  }
});

describe('redactSql when the server may read the text differently', () => {
  it('hides everything from the first quote on when a quote is unterminated', () => {
    expect(redactSql("ALTER USER u IDENTIFIED BY 'pw-30")).toBe(`ALTER USER u IDENTIFIED BY ${R}`);
    expect(redactSql("ALTER USER u IDENTIFIED BY _utf8mb4'pw-30b")).toBe(`ALTER USER u IDENTIFIED BY ${R}`);
  });

  it('hides everything from the first quote on when a literal holds a backslash (NO_BACKSLASH_ESCAPES)', () => {
    // Without backslash escapes the server reads 'a\' as a whole literal and pw-31 as code.
    const sql = String.raw`ALTER USER u IDENTIFIED BY 'a\' REPLACE 'pw-31'`;
    expect(redactSql(sql)).toBe(`ALTER USER u IDENTIFIED BY ${R}`);
  });

  it('counts a keyword the lexer saw in a literal when the text is ambiguous', () => {
    // With NO_BACKSLASH_ESCAPES this is SET @x = 'a\' , PASSWORD = 'pw-32'...: the keyword is code there.
    const sql = String.raw`SELECT 'a\', PASSWORD(' , pw-32 '`;
    expect(redactSql(sql)).not.toContain('pw-32');
  });

  it('does not trust a versioned executable comment that a server may read as a plain comment', () => {
    // A server that skips /*!99999 ... */ ends it at the first */ and runs the ALTER USER.
    const sql = "SELECT 1 /*!99999 ' */ ALTER USER u IDENTIFIED BY 'pw-33' /* ' */";
    expect(redactSql(sql)).not.toContain('pw-33');
    // MySQL reads /*M! ... */ as a comment.
    const mysql = "/*M! ' */ ALTER USER u IDENTIFIED BY 'pw-34' /* ' */";
    expect(redactSql(mysql)).not.toContain('pw-34');
  });

  it('hides the tail after an unterminated comment or executable comment', () => {
    expect(redactSql("ALTER USER u IDENTIFIED BY 'pw-35' /* x")).toBe(`ALTER USER u IDENTIFIED BY ${R}`);
    expect(redactSql("/*! ALTER USER u IDENTIFIED BY 'pw-36'")).toBe(`/*! ALTER USER u IDENTIFIED BY ${R}`);
  });
});

describe('redactSql leaves other statements as they are', () => {
  const plain = [
    'SELECT 1',
    'SELECT * FROM orders WHERE id = ? AND status = ?',
    "SELECT * FROM orders WHERE note = 'ship by Monday' LIMIT 10",
    "INSERT INTO t (a, created_at) VALUES ('x', NOW()) ON DUPLICATE KEY UPDATE a = 'y'",
    // The words only in literals or comments: not a credential statement.
    "SELECT 'password reset' AS subject",
    "SELECT 1 /* IDENTIFIED BY 'x' */",
    "UPDATE users SET name = 'Alter Ego' WHERE id = 1 -- password unchanged",
    "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20) DEFAULT 'x')",
  ];
  for (const sql of plain) {
    it(sql, () => {
      expect(redactSql(sql)).toBe(sql);
    });
  }
});
