import type { PromiseConnection } from './mysql2.js';

/**
 * A stand-in for a mysql2 promise connection that is not borrowed yet: calling any of its methods
 * borrows the real one first, then calls the same method on it.
 */
export function borrowingConnection(borrow: () => Promise<PromiseConnection>): PromiseConnection {
  return new Proxy(Object.create(null) as PromiseConnection, {
    get(_target, property) {
      // Not a thenable: `await session.connection` must not try to call then().
      if (property === 'then') return undefined;
      return async (...args: unknown[]): Promise<unknown> => {
        const connection = await borrow();
        const member: unknown = Reflect.get(connection, property);
        if (typeof member !== 'function') return member;
        return (member as (...a: unknown[]) => unknown).apply(connection, args);
      };
    },
  });
}
