import { describe, expect, it } from 'vitest';
import { changesUntrackedState, switchesSchema } from '../../src/sql/session-state-hints.js';

/** The same statement in the spellings a client may send: case, spacing, line breaks, comments. */
function spellings(sql: string): string[] {
  return [
    sql,
    sql.toLowerCase(),
    sql.replace(/ /g, '  '),
    sql.replace(/ /g, '\n\t'),
    sql.replace(/ /g, ' /* c */ '),
    sql.replace(/ /g, ' -- c\n'),
    `/*! ${sql} */`,
    `/*!50700 ${sql} */`,
    `/*M!100100 ${sql} */`,
  ];
}

const untracked: Record<string, readonly string[]> = {
  'a user variable assigned in a SELECT': ['SELECT @b := 2', 'SELECT @b:=2', 'SELECT id, @n := @n + 1 FROM t', "SELECT @`odd name` := 1", "SELECT @'q' := 1"],
  'a user variable assigned in DO or UPDATE': ['DO @b := 2', 'UPDATE t SET x = (@n := @n + 1)'],
  'SELECT ... INTO a user variable': ['SELECT 1 INTO @c', 'SELECT x INTO @a, @b FROM t', 'SELECT x FROM t LIMIT 1 INTO @a', 'SELECT x INTO@a FROM t'],
  'LOAD DATA with a user variable': ["LOAD DATA INFILE '/tmp/f' INTO TABLE t (a, @b) SET c = @b"],
  'GET_LOCK': ["SELECT GET_LOCK('job', 10)", "DO GET_LOCK('job', 0)", "SELECT GET_LOCK ('job', 0)", "SELECT `GET_LOCK`('job', 0)", "SELECT x FROM t WHERE GET_LOCK(CONCAT('a', id), 0)"],
  "MySQL's locking service": ["SELECT service_get_write_locks('ns', 'lock1', 0)"],
  'LOCK TABLES': ['LOCK TABLES t READ', 'LOCK TABLE t WRITE', 'LOCK TABLES t1 READ, t2 AS x WRITE'],
  'FLUSH TABLES ... WITH READ LOCK': ['FLUSH TABLES WITH READ LOCK', 'FLUSH TABLES t1, t2 WITH READ LOCK', 'FLUSH LOCAL TABLE t FOR EXPORT'],
  'LOCK INSTANCE FOR BACKUP': ['LOCK INSTANCE FOR BACKUP'],
  'BACKUP STAGE, BACKUP LOCK': ['BACKUP STAGE START', 'BACKUP STAGE BLOCK_COMMIT', 'BACKUP LOCK t'],
  'SET TRANSACTION': ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET TRANSACTION READ ONLY'],
  'SET @@tx_isolation without a scope (one-shot, as SET TRANSACTION)': ["SET @@tx_isolation = 'READ-COMMITTED'", 'SET @@transaction_read_only = 1'],
  'XA': ["XA START 'x'", "XA END 'x'", "XA PREPARE 'x'", "XA COMMIT 'x' ONE PHASE", 'XA RECOVER'],
  'HANDLER ... OPEN': ['HANDLER t OPEN', 'HANDLER db.t OPEN AS h', 'HANDLER `my t` OPEN'],
  'CALL and EXECUTE (the program may do anything)': ['CALL p()', 'EXECUTE stmt', "EXECUTE IMMEDIATE 'SELECT GET_LOCK(''a'', 0)'"],
  'compound statements': ["BEGIN NOT ATOMIC DO GET_LOCK('a', 0); END"],
};

describe('changesUntrackedState finds what the server does not flag', () => {
  for (const [name, statements] of Object.entries(untracked)) {
    it(name, () => {
      for (const statement of statements) {
        for (const sql of spellings(statement)) expect(changesUntrackedState(sql), sql).toBe(true);
      }
    });
  }
});

describe('changesUntrackedState ignores the rest', () => {
  const ordinary = [
    'SELECT 1',
    'SELECT * FROM t WHERE id = ? FOR UPDATE',
    'SELECT * FROM t WHERE id = ? LOCK IN SHARE MODE',
    'INSERT INTO t (a, b) VALUES (?, ?)',
    'UPDATE t SET a = @a WHERE id = ?',
    'SELECT @a, @@session.sql_mode',
    'SELECT @a = 1',
    'INSERT INTO t SELECT * FROM u',
    // Harmless lock functions: they acquire nothing.
    "SELECT RELEASE_LOCK('job')",
    "SELECT IS_USED_LOCK('job'), IS_FREE_LOCK('job')",
    'SELECT RELEASE_ALL_LOCKS()',
    'UNLOCK TABLES',
    'FLUSH PRIVILEGES',
    // Tracked by the server itself: the pool hears of these from the status flags.
    'SET @a = 1',
    'SET SESSION sql_mode = DEFAULT',
    'START TRANSACTION',
    // The words only in literals or comments.
    "SELECT 'GET_LOCK(' AS note",
    "SELECT 'LOCK TABLES t READ'",
    "SELECT x FROM t WHERE note = 'a := b'",
    "SELECT 1 -- GET_LOCK('a', 0)",
    "SELECT 1 /* XA START 'x' */",
    "SELECT 1 # HANDLER t OPEN",
    // Names that contain a keyword: decided, they are names (the server reads them so).
    'SELECT lock_tables, get_lock_count, xa_id FROM t',
    'SELECT `lock tables` FROM t',
    'UPDATE handlers SET opened = 1',
    'SELECT * FROM transactions WHERE id = ?',
  ];
  for (const sql of ordinary) {
    it(sql, () => {
      expect(changesUntrackedState(sql)).toBe(false);
    });
  }
});

describe('changesUntrackedState errs towards true when unsure', () => {
  it('counts a text the server may lex differently', () => {
    // With NO_BACKSLASH_ESCAPES the server reads 'a\' as a literal and GET_LOCK as a call.
    expect(changesUntrackedState(String.raw`SELECT 'a\', GET_LOCK('x', 0), '`)).toBe(true);
    expect(changesUntrackedState("SELECT GET_LOCK('x")).toBe(true);
  });

  it('counts a plain FLUSH TABLES, a table named xa and a column named transaction', () => {
    expect(changesUntrackedState('FLUSH TABLES')).toBe(true);
    expect(changesUntrackedState('SELECT * FROM xa')).toBe(true);
    expect(changesUntrackedState('UPDATE t SET transaction = 1')).toBe(true);
  });
});

describe('switchesSchema', () => {
  it('finds USE db in any spelling', () => {
    for (const sql of ['USE app', 'use app', '  USE `my app`', 'USE\napp', 'USE/**/app', '/* c */ USE app', '-- c\nUSE app', '# c\nUSE app', '/*!40000 USE app */', 'USE`app`']) {
      expect(switchesSchema(sql), sql).toBe(true);
    }
  });

  it('ignores index hints, names and literals', () => {
    for (const sql of ['SELECT * FROM t USE INDEX (ix)', 'SELECT * FROM users', "SELECT 'USE app'", 'USER_LIST', '/* USE app */ SELECT 1', 'UPDATE t SET used = 1']) {
      expect(switchesSchema(sql), sql).toBe(false);
    }
  });
});

describe('cost on the hot path', () => {
  // Measured (best of 5, Node 20, two cores shared with other test files): changesUntrackedState
  // about 35 ns for SELECT 1 and 0.5 µs for the 200-character INSERT below; switchesSchema about
  // 30 ns for both. The bound is loose so that a busy machine does not fail the test.
  const insert =
    'INSERT INTO order_items (order_id, product_id, quantity, unit_price, discount, created_at, updated_at, note) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), note = ?';

  function nsPerCall(run: (sql: string) => boolean, sql: string): number {
    const calls = 50_000;
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const start = process.hrtime.bigint();
      for (let k = 0; k < calls; k++) if (run(sql)) throw new Error(`unexpected match: ${sql}`);
      best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
    }
    return best;
  }

  it('stays well under a few microseconds per statement', () => {
    expect(insert.length).toBeGreaterThanOrEqual(200);
    for (const sql of ['SELECT 1', insert]) {
      expect(nsPerCall(changesUntrackedState, sql), sql).toBeLessThan(3_000);
      expect(nsPerCall(switchesSchema, sql), sql).toBeLessThan(3_000);
    }
  });
});
