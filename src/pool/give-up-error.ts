import { settingLabel } from '../config/setting-label.js';
import type { GiveUpReason } from '../db-session.js';
import { DbSwitchError } from '../errors.js';

/** The error the caller sees when it gave up on a statement. */
export function giveUpError(reason: GiveUpReason, killing: boolean): DbSwitchError {
  const onServer = killing ? '; dbswitch is killing it on the server (KILL QUERY)' : '; it had not been sent';
  switch (reason.kind) {
    case 'timeout':
      return new DbSwitchError(
        'ETIMEOUT',
        `the statement ran longer than its timeout of ${reason.timeoutMs} ms (the timeout option, or ${settingLabel('db.statementTimeoutMs')})${onServer}`,
      );
    case 'aborted':
      return new DbSwitchError('ECANCELLED', `the statement was cancelled (its AbortSignal fired, or its session was aborted)${onServer}`, { cause: reason.reason });
    case 'released':
      return new DbSwitchError(
        'ESESSION_RELEASED',
        `the session was released while this statement was running${onServer}. Await every statement before releasing the session.`,
      );
    case 'closed':
      return new DbSwitchError('ECLOSED', `the Db was closed while this statement was running (after ${settingLabel('pool.closeTimeoutMs')})${onServer}`);
  }
}
