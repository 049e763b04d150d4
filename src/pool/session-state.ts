import type { CommandKind } from '../driver/mysql2.js';
import type { ResetMode } from '../config/modes.js';

// Server status flags (MySQL and MariaDB protocol, OK and EOF packets).
const SERVER_STATUS_IN_TRANS = 0x0001;
const SERVER_STATUS_AUTOCOMMIT = 0x0002;
const SERVER_SESSION_STATE_CHANGED = 0x4000;

/** Reads statement text for the state changes the server's tracker does not report. */
export interface StateHints {
  /** `SELECT @a := 1`, `INTO @a`, GET_LOCK, LOCK TABLES, SET TRANSACTION, XA ... */
  changesUntrackedState(sql: string): boolean;
  /** `USE db`: kept by COM_RESET_CONNECTION, so it must be undone by hand. */
  switchesSchema(sql: string): boolean;
}

/** What a connection needs before another session may use it. */
export type Cleanup =
  | { readonly kind: 'none' }
  /** A transaction is open; nothing else changed. */
  | { readonly kind: 'rollback' }
  /** Session state changed: COM_RESET_CONNECTION, then the connection's setup again. */
  | { readonly kind: 'reset'; readonly schemaSwitched: boolean }
  /** The state cannot be known or restored: close the connection. */
  | { readonly kind: 'destroy'; readonly why: string };

// The common answers, made once: every give-back asks.
const NOTHING: Cleanup = { kind: 'none' };
const ROLLBACK: Cleanup = { kind: 'rollback' };

/**
 * Follows one connection's session state from what the server says (the status flags of every
 * OK and EOF packet, with `session_track_state_change` on) and what the statement text shows
 * for the few changes the server does not flag. Commands sent on the raw connection (an ORM's)
 * are seen too, so raw use costs no reset unless it changed something.
 */
export class SessionState {
  readonly #hints: StateHints;
  /** False when the server cannot flag state changes: every used connection is then reset. */
  #trackingOn = false;
  #inTransaction = false;
  #autocommitOff = false;
  #changed = false;
  #schemaSwitched = false;
  #unknown: string | undefined;
  #used = false;
  /** dbswitch's own statements (cleanup, transaction control) are not scanned. */
  #internal = 0;

  constructor(hints: StateHints) {
    this.#hints = hints;
  }

  /** Whether the server reports state changes (set after the connection's setup). */
  set trackingOn(on: boolean) {
    this.#trackingOn = on;
  }

  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Runs `send` (which queues dbswitch's own command) without scanning its text. */
  internal<T>(send: () => T): T {
    this.#internal++;
    try {
      return send();
    } finally {
      this.#internal--;
    }
  }

  /** From the packet observer: the flags of an OK or EOF packet. */
  onStatus(flags: number): void {
    this.#inTransaction = (flags & SERVER_STATUS_IN_TRANS) !== 0;
    this.#autocommitOff = (flags & SERVER_STATUS_AUTOCOMMIT) === 0;
    if ((flags & SERVER_SESSION_STATE_CHANGED) !== 0) this.#changed = true;
  }

  /** From the packet observer: a command was queued. */
  onCommand(kind: CommandKind, sql: string | undefined): void {
    if (this.#internal > 0) return;
    switch (kind) {
      case 'statement':
        this.#used = true;
        if (sql === undefined) {
          this.#unknown ??= 'a statement without text';
        } else {
          if (this.#hints.changesUntrackedState(sql)) this.#changed = true;
          if (this.#hints.switchesSchema(sql)) this.#schemaSwitched = true;
        }
        return;
      case 'reset':
        this.#used = true;
        this.#changed = true;
        return;
      case 'ping':
      case 'close-statement':
      case 'quit':
        return;
      case 'other':
        // change user, binlog dump ...: nothing dbswitch can put back.
        this.#used = true;
        this.#unknown ??= 'a command dbswitch cannot undo';
        return;
    }
  }

  /** The connection is clean now (after its setup or a cleanup). */
  markClean(): void {
    this.#changed = false;
    this.#schemaSwitched = false;
    this.#unknown = undefined;
    this.#used = false;
  }

  /**
   * What to do before the next session. `auto` resets only what changed; `always` resets every
   * used connection; `never` only rolls back an open transaction.
   */
  cleanup(mode: ResetMode, hasDefaultSchema: boolean): Cleanup {
    const needsRollback = this.#inTransaction || this.#autocommitOff;
    if (mode === 'never') return needsRollback ? ROLLBACK : NOTHING;
    if (this.#unknown !== undefined) return { kind: 'destroy', why: `the session sent ${this.#unknown}` };
    const changed = this.#changed || this.#autocommitOff || (!this.#trackingOn && this.#used) || (mode === 'always' && this.#used);
    if (this.#schemaSwitched && !hasDefaultSchema) {
      return { kind: 'destroy', why: 'the session switched schema (USE) and no db.database (DB_NAME) is set to switch back to' };
    }
    if (changed || this.#schemaSwitched) return { kind: 'reset', schemaSwitched: this.#schemaSwitched };
    return needsRollback ? ROLLBACK : NOTHING;
  }
}
