import type { Database } from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type LatchkeyStore,
  type UserRecord,
} from '@latchkey/core/store-kit';
import { RATE_LIMIT_TABLE } from './schema.js';
import { prepareStatements, type UserRow } from './statements.js';

/** better-sqlite3 is synchronous: run the call inside a promise so a fault rejects, never throws. */
const call = <T>(fn: () => T): Promise<T> =>
  new Promise<T>((resolve) => {
    resolve(fn());
  });

const toUser = (row: UserRow | undefined): UserRecord | null =>
  row ? { ...row, mfa: JSON.parse(row.mfa) as string[] } : null;

/** The store's methods on an open, migrated connection, without the memory cache. */
export function storeOn(db: Database): LatchkeyStore {
  const sql = prepareStatements(db);
  return {
    name: 'sqlite',
    users: {
      createUser: (user) =>
        call(() => sql.insertUser.run({ ...user, mfa: JSON.stringify(user.mfa) }).changes === 1),
      getUserByEmail: (email) => call(() => toUser(sql.userByEmail.get(email))),
      getUserById: (id) => call(() => toUser(sql.userById.get(id))),
      updateUser: (userId, patch) =>
        call(() => {
          db.transaction(() => {
            if (patch.emailVerifiedAt !== undefined) {
              sql.setEmailVerifiedAt.run(patch.emailVerifiedAt, userId);
            }
            if (patch.mfa !== undefined) sql.setMfa.run(JSON.stringify(patch.mfa), userId);
          })();
        }),
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
    records: {
      createRecord: (record, now) =>
        call(() => sql.insertRecord.run({ ...record, now }).changes === 1),
      getRecord: (kind, id, now) => call(() => sql.recordById.get(kind, id, now) ?? null),
      takeRecord: (kind, id, now) => call(() => sql.takeRecord.get(kind, id, now) ?? null),
      replaceRecord: (kind, id, expectedData, next, now) =>
        call(() => sql.replaceRecord.run({ kind, id, expectedData, ...next, now }).changes === 1),
      deleteRecord: (kind, id) => call(() => sql.deleteRecord.run(kind, id).changes > 0),
      listUserRecords: (kind, userId, now) =>
        call(() => sql.listUserRecords.all(userId, kind, now)),
      deleteUserRecords: (userId, kind) =>
        call(
          () =>
            (kind === undefined
              ? sql.deleteUserRecords.run(userId)
              : sql.deleteUserRecordsOfKind.run(userId, kind)
            ).changes,
        ),
      deleteExpiredRecords: (now) => call(() => sql.deleteExpiredRecords.run(now).changes),
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
