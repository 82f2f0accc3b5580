import type { Database } from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type LatchkeyStore,
} from '@latchkey/core/store-kit';
import { RATE_LIMIT_TABLE } from './schema.js';
import { prepareStatements } from './statements.js';

/** better-sqlite3 is synchronous: run the call inside a promise so a fault rejects, never throws. */
const call = <T>(fn: () => T): Promise<T> =>
  new Promise<T>((resolve) => {
    resolve(fn());
  });

/** The store's methods on an open, migrated connection, without the memory cache. */
export function storeOn(db: Database): LatchkeyStore {
  const sql = prepareStatements(db);
  return {
    name: 'sqlite',
    users: {
      createUser: (user) => call(() => sql.insertUser.run(user).changes === 1),
      getUserByEmail: (email) => call(() => sql.userByEmail.get(email) ?? null),
      getUserById: (id) => call(() => sql.userById.get(id) ?? null),
      setPasswordHash: (userId, passwordHash) =>
        call(() => {
          sql.setPasswordHash.run(passwordHash, userId);
        }),
      deleteUser: (id) => call(() => sql.deleteUser.run(id).changes > 0),
    },
    sessions: {
      createSession: (session) =>
        call(() => {
          sql.insertSession.run(session);
        }),
      getSession: (id) => call(() => sql.sessionById.get(id) ?? null),
      touchSession: (id, lastSeenAt, idleExpiresAt) =>
        call(() => {
          sql.touchSession.run(lastSeenAt, idleExpiresAt, id);
        }),
      rotateSecret: (id, expectedSecretHash, next) =>
        call(() => sql.rotateSecret.run({ ...next, id, expectedSecretHash }).changes === 1),
      deleteSession: (id) => call(() => sql.deleteSession.run(id).changes > 0),
      listUserSessions: (userId, now) => call(() => sql.listUserSessions.all(userId, now, now)),
      deleteUserSessions: (userId, exceptId) =>
        call(() => sql.deleteUserSessions.run(userId, exceptId ?? null).changes),
      deleteExpiredSessions: (now) =>
        call(() => {
          sql.deleteExpiredLimits.run(now);
          return sql.deleteExpiredSessions.run(now, now).changes;
        }),
    },
    rateLimits: {
      createLimiter: (limiter) =>
        fromRateLimiterFlexible(
          new RateLimiterSQLite({
            ...rateLimiterFlexibleOptions(limiter),
            storeClient: db,
            storeType: 'better-sqlite3',
            tableName: RATE_LIMIT_TABLE,
            // The migration made the table. Left to itself the library creates it
            // asynchronously and rejects any hit that arrives before that finishes.
            tableCreated: true,
          }),
        ),
    },
    ping: () =>
      call(() => {
        sql.ping.get();
      }),
    close: () =>
      call(() => {
        if (db.open) db.close();
      }),
  };
}
