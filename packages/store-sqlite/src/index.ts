import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import {
  createLocalInvalidationBus,
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  withNearCache,
  type LatchkeyStore,
  type SessionRecord,
  type SessionRotation,
  type UserRecord,
} from '@latchkey/core/store-kit';

export type { Database as SqliteDatabase };

/** A LatchkeyStore in one SQLite file, plus the connection for the app's own tables. */
export interface SqliteStore extends LatchkeyStore {
  /** The open connection: an app may keep its own tables in the same file (see `applyMigrations`). */
  readonly db: Database;
  /**
   * Drops every session and user held in memory (see `memoryCache`). Call it after
   * changing Latchkey's tables with your own SQL on `db` (deleting a user, say), so
   * the change is seen by the next request instead of up to `maxAgeMs` later.
   */
  clearMemoryCache(): void;
}

export type SqliteStoreOptions = ({ filename: string } | { database: Database }) & {
  busyTimeoutMs?: number;
  exclusive?: boolean;
  cacheSizeMiB?: number;
  memoryCache?: false | { maxEntries?: number; maxAgeMs?: number };
};

const RATE_LIMIT_TABLE = 'latchkey_rate_limits';

/**
 * Latchkey's schema, one entry per version. Append new entries; never edit a shipped
 * one. Tables carry a `latchkey_` prefix because the app keeps its own in the same file.
 */
const MIGRATIONS = [
  `CREATE TABLE latchkey_users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     name TEXT,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE latchkey_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES latchkey_users (id) ON DELETE CASCADE,
     secret_hash TEXT NOT NULL,
     previous_secret_hash TEXT,
     rotated_at INTEGER,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     idle_expires_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     user_agent TEXT,
     ip TEXT
   ) STRICT;
   CREATE INDEX latchkey_sessions_user ON latchkey_sessions (user_id, created_at);
   -- rate-limiter-flexible's own layout, created here so it exists before the first hit.
   CREATE TABLE ${RATE_LIMIT_TABLE} (
     key TEXT PRIMARY KEY,
     points INTEGER NOT NULL DEFAULT 0,
     expire INTEGER
   );`,
];

/**
 * Brings the named set of migrations up to date: runs the entries of `migrations`
 * that the file has not seen yet, in order, and records the new version in
 * `latchkey_migrations`. All of it happens in one transaction, so a failing entry
 * leaves the file as it was. Re-running with the same list does nothing. Throws when
 * the file holds a newer version than `migrations` knows (an older build on a newer
 * file). Returns how many entries were applied.
 */
export function applyMigrations(db: Database, name: string, migrations: readonly string[]): number {
  const migrate = db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS latchkey_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT',
    );
    const row = db
      .prepare<[string], { version: number }>(
        'SELECT version FROM latchkey_migrations WHERE name = ?',
      )
      .get(name);
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database has ${name} migration ${current}, newer than this code's ${migrations.length}`,
      );
    }
    const pending = migrations.slice(current);
    for (const sql of pending) db.exec(sql);
    if (pending.length > 0) {
      db.prepare(
        'INSERT INTO latchkey_migrations (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version',
      ).run(name, migrations.length);
    }
    return pending.length;
  });
  // IMMEDIATE takes the write lock before the version is read, so two processes
  // starting on the same file cannot both apply the same entry.
  return migrate.immediate();
}

const USER_COLUMNS = 'id, email, name, password_hash AS passwordHash, created_at AS createdAt';
const SESSION_COLUMNS = `id, user_id AS userId, secret_hash AS secretHash,
  previous_secret_hash AS previousSecretHash, rotated_at AS rotatedAt, created_at AS createdAt,
  last_seen_at AS lastSeenAt, idle_expires_at AS idleExpiresAt, expires_at AS expiresAt,
  user_agent AS userAgent, ip`;

/** better-sqlite3 is synchronous: run the call inside a promise so a fault rejects, never throws. */
const call = <T>(fn: () => T): Promise<T> =>
  new Promise<T>((resolve) => {
    resolve(fn());
  });

const isBusy = (error: unknown): boolean =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');

function openFile(filename: string): Database {
  if (filename !== ':memory:' && filename !== '') mkdirSync(dirname(filename), { recursive: true });
  return new BetterSqlite3(filename);
}

/**
 * The embedded default store: users, sessions and rate-limit counters in one SQLite
 * file. The connection runs in WAL mode with `synchronous = FULL` (a write is on
 * disk when its promise resolves), `foreign_keys = ON` (deleting a user deletes
 * their sessions) and a busy timeout; the schema is migrated at start-up. A given
 * `database` gets the same settings, and `close()` closes it. Rotation is one
 * compare-and-set `UPDATE`; any SQLite fault rejects the call.
 *
 * @param options.filename Path of the database file; missing parent folders are created.
 * @param options.database An open better-sqlite3 connection to use instead of `filename`.
 * @param options.busyTimeoutMs How long a write waits for another connection's lock. @default 5000
 * @param options.exclusive Hold the file's lock for as long as the store is open
 *   (`locking_mode = EXCLUSIVE`): every query then skips SQLite's per-transaction file
 *   locks, about 4x faster on a session lookup, and a second process (or connection)
 *   cannot open the file while the store is open: start-up fails with an error saying
 *   so, instead of two servers sharing one file. Set `false` to let other processes
 *   use the file at the same time. @default true
 * @param options.cacheSizeMiB SQLite's page cache for this connection. Session lookups
 *   touch a few pages each; a cache holding the active sessions' pages keeps lookup
 *   time flat as the table grows to millions of rows. @default 64
 * @param options.memoryCache Sessions and users read recently, kept in process memory
 *   (`withNearCache` over an in-process channel). Coherent because with `exclusive`
 *   every write goes through this store, which evicts what it changes; entries whose
 *   idle or absolute expiry has come are never served. Change Latchkey's tables only
 *   through the store, or call `clearMemoryCache()` after your own SQL on them: a row
 *   changed with raw SQL on `db` is otherwise served stale for up to `maxAgeMs`. Off
 *   (and refused) without `exclusive`.
 *   @default { maxEntries: 50000, maxAgeMs: 30000 } when exclusive
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  const exclusive = options.exclusive ?? true;
  if (options.memoryCache && !exclusive) {
    throw new TypeError('memoryCache needs exclusive: another process could change rows under it');
  }
  const cacheSizeMiB = options.cacheSizeMiB ?? 64;
  if (!Number.isSafeInteger(cacheSizeMiB) || cacheSizeMiB < 1) {
    throw new TypeError(`cacheSizeMiB must be a positive integer, got ${cacheSizeMiB}`);
  }
  const db = 'database' in options ? options.database : openFile(options.filename);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before the first access in WAL mode, so SQLite keeps the WAL index in memory
    // and never maps the shared-memory file other processes would need.
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${-cacheSizeMiB * 1024}`);
    applyMigrations(db, 'latchkey', MIGRATIONS);
  } catch (error) {
    db.close();
    if (isBusy(error)) {
      throw new Error(
        `SQLite file ${db.name} is in use by another process or connection` +
          (exclusive ? ' (the store holds it exclusively; pass exclusive: false to share it)' : ''),
        { cause: error },
      );
    }
    throw error;
  }

  const sql = {
    ping: db.prepare('SELECT 1'),
    // Only an email clash is a "no"; any other failure (a duplicate id) throws.
    insertUser: db.prepare<UserRecord>(
      `INSERT INTO latchkey_users (id, email, name, password_hash, created_at)
       VALUES (@id, @email, @name, @passwordHash, @createdAt) ON CONFLICT (email) DO NOTHING`,
    ),
    userByEmail: db.prepare<[string], UserRecord>(
      `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE email = ?`,
    ),
    userById: db.prepare<[string], UserRecord>(
      `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE id = ?`,
    ),
    setPasswordHash: db.prepare<[string, string]>(
      'UPDATE latchkey_users SET password_hash = ? WHERE id = ?',
    ),
    insertSession: db.prepare<SessionRecord>(
      `INSERT INTO latchkey_sessions (id, user_id, secret_hash, previous_secret_hash, rotated_at, created_at,
         last_seen_at, idle_expires_at, expires_at, user_agent, ip)
       VALUES (@id, @userId, @secretHash, @previousSecretHash, @rotatedAt, @createdAt,
         @lastSeenAt, @idleExpiresAt, @expiresAt, @userAgent, @ip)`,
    ),
    sessionById: db.prepare<[string], SessionRecord>(
      `SELECT ${SESSION_COLUMNS} FROM latchkey_sessions WHERE id = ?`,
    ),
    touchSession: db.prepare<[number, number, string]>(
      'UPDATE latchkey_sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?',
    ),
    // The WHERE clause is the compare-and-set: a concurrent rotation changes
    // secret_hash first, so this one matches no row.
    rotateSecret: db.prepare<SessionRotation & { id: string; expectedSecretHash: string }>(
      `UPDATE latchkey_sessions SET secret_hash = @secretHash, previous_secret_hash = @previousSecretHash,
         rotated_at = @rotatedAt, last_seen_at = @lastSeenAt, idle_expires_at = @idleExpiresAt
       WHERE id = @id AND secret_hash = @expectedSecretHash`,
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM latchkey_sessions WHERE id = ?'),
    listUserSessions: db.prepare<[string, number, number], SessionRecord>(
      `SELECT ${SESSION_COLUMNS} FROM latchkey_sessions
       WHERE user_id = ? AND expires_at > ? AND idle_expires_at > ?
       ORDER BY created_at, id`,
    ),
    // `id IS NOT NULL` holds for every row, so a missing exceptId deletes them all.
    deleteUserSessions: db.prepare<[string, string | null]>(
      'DELETE FROM latchkey_sessions WHERE user_id = ? AND id IS NOT ?',
    ),
    deleteExpiredSessions: db.prepare<[number, number]>(
      'DELETE FROM latchkey_sessions WHERE expires_at <= ? OR idle_expires_at <= ?',
    ),
    // The library's own sweep is a timer that would outlive close(), so the
    // session sweep also drops finished rate-limit windows.
    deleteExpiredLimits: db.prepare<[number]>(
      `DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire IS NOT NULL AND expire <= ?`,
    ),
  };

  const store: LatchkeyStore = {
    name: 'sqlite',
    users: {
      createUser: (user) => call(() => sql.insertUser.run(user).changes === 1),
      getUserByEmail: (email) => call(() => sql.userByEmail.get(email) ?? null),
      getUserById: (id) => call(() => sql.userById.get(id) ?? null),
      setPasswordHash: (userId, passwordHash) =>
        call(() => {
          sql.setPasswordHash.run(passwordHash, userId);
        }),
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
  if (!exclusive || options.memoryCache === false) {
    return { ...store, db, clearMemoryCache: () => undefined };
  }
  const bus = createLocalInvalidationBus();
  const cached = withNearCache(store, bus.channel(), {
    maxEntries: options.memoryCache?.maxEntries ?? 50_000,
    maxAgeMs: options.memoryCache?.maxAgeMs ?? 30_000,
  });
  return {
    ...cached,
    name: 'sqlite',
    db,
    clearMemoryCache() {
      // A channel that goes down and comes back flushes the cache (its reset signal).
      bus.setHealthy(false);
      bus.setHealthy(true);
    },
  };
}
