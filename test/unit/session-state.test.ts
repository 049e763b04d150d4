/** What a released connection needs, decided from the server's status flags and the statement text. */
import { describe, expect, it } from 'vitest';
import { SessionState, type Cleanup } from '../../src/pool/session-state.js';
import { changesUntrackedState, switchesSchema } from '../../src/sql/session-state-hints.js';
import { SERVER_SESSION_STATE_CHANGED, SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS } from './fakes/fake-mysql.js';

describe('SessionState.cleanup', () => {
  const hints = { changesUntrackedState, switchesSchema };
  const OK = SERVER_STATUS_AUTOCOMMIT;
  const IN_TRANS = SERVER_STATUS_AUTOCOMMIT | SERVER_STATUS_IN_TRANS;
  const CHANGED = SERVER_STATUS_AUTOCOMMIT | SERVER_SESSION_STATE_CHANGED;
  const AUTOCOMMIT_OFF = 0;

  /** A connection set up with tracking on, then one session's statements with the flags the server answered. */
  function after(statements: readonly (readonly [sql: string, flags: number])[], trackingOn = true): SessionState {
    const state = new SessionState(hints);
    state.trackingOn = trackingOn;
    state.internal(() => {
      state.onCommand('statement', 'SET SESSION session_track_state_change = 1');
    });
    state.onStatus(CHANGED);
    state.markClean();
    for (const [sql, flags] of statements) {
      state.onCommand('statement', sql);
      state.onStatus(flags);
    }
    return state;
  }

  const none: Cleanup = { kind: 'none' };
  const rollback: Cleanup = { kind: 'rollback' };
  const reset: Cleanup = { kind: 'reset', schemaSwitched: false };

  it.each<[string, readonly (readonly [string, number])[], Cleanup, Cleanup, Cleanup]>([
    //  case                          statements and flags                                  auto       always     never
    ['no statement', [], none, none, none],
    ['reads only', [['SELECT 1', OK]], none, reset, none],
    ['an open transaction', [['START TRANSACTION', IN_TRANS], ['UPDATE t SET x = 1', IN_TRANS]], rollback, reset, rollback],
    ['a committed transaction', [['START TRANSACTION', IN_TRANS], ['COMMIT', OK]], none, reset, none],
    ['a flagged change', [['SET @a = 1', CHANGED]], reset, reset, none],
    ['a flagged change in a transaction', [['START TRANSACTION', IN_TRANS], ['SET @a = 1', IN_TRANS | SERVER_SESSION_STATE_CHANGED]], reset, reset, rollback],
    ['autocommit turned off', [['SET autocommit = 0', AUTOCOMMIT_OFF]], reset, reset, rollback],
    ['SELECT @a := 1 (unflagged)', [['SELECT @a := 1', OK]], reset, reset, none],
    ["GET_LOCK (unflagged)", [["SELECT GET_LOCK('k', 1)", OK]], reset, reset, none],
  ])('%s → auto %j, always %j, never %j', (_case, statements, auto, always, never) => {
    expect(after(statements).cleanup('auto', true)).toEqual(auto);
    expect(after(statements).cleanup('always', true)).toEqual(always);
    expect(after(statements).cleanup('never', true)).toEqual(never);
  });

  it('resets and switches back after USE when a default schema is set, and closes the connection when none is', () => {
    expect(after([['USE other', CHANGED]]).cleanup('auto', true)).toEqual({ kind: 'reset', schemaSwitched: true });
    expect(after([['USE other', CHANGED]]).cleanup('auto', false)).toMatchObject({ kind: 'destroy', why: expect.stringContaining('DB_NAME') as string });
    expect(after([['USE other', CHANGED]]).cleanup('never', false)).toEqual(none);
  });

  it('resets every used connection when the server does not track state', () => {
    expect(after([['SELECT 1', OK]], false).cleanup('auto', true)).toEqual(reset);
    expect(after([], false).cleanup('auto', true)).toEqual(none);
  });

  it('closes the connection after a command it cannot undo, or a statement it could not read', () => {
    const changeUser = after([]);
    changeUser.onCommand('other', undefined);
    expect(changeUser.cleanup('auto', true)).toMatchObject({ kind: 'destroy' });
    const unread = after([]);
    unread.onCommand('statement', undefined);
    expect(unread.cleanup('auto', true)).toMatchObject({ kind: 'destroy' });
  });

  it('counts a reset sent by the session as a change, and pings as nothing', () => {
    const reset_ = after([]);
    reset_.onCommand('reset', undefined);
    expect(reset_.cleanup('auto', true)).toEqual(reset);
    const pinged = after([]);
    pinged.onCommand('ping', undefined);
    pinged.onStatus(OK);
    expect(pinged.cleanup('always', true)).toEqual(none);
  });

  it('does not scan dbswitch’s own statements, and is clean again after markClean', () => {
    const state = after([]);
    state.internal(() => {
      state.onCommand('statement', 'SELECT @a := 1');
    });
    expect(state.cleanup('auto', true)).toEqual(none);
    state.onCommand('statement', 'SELECT @a := 1');
    expect(state.cleanup('auto', true)).toEqual(reset);
    state.markClean();
    expect(state.cleanup('auto', true)).toEqual(none);
  });

  it('reports the transaction from the last status flags', () => {
    const state = after([['START TRANSACTION', IN_TRANS]]);
    expect(state.inTransaction).toBe(true);
    state.onStatus(OK);
    expect(state.inTransaction).toBe(false);
  });
});
