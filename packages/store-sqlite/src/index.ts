import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { RateLimiterSQLite } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type LatchkeyStore,
  type SessionRecord,
  type UserRecord,
} from '@latchkey/core';

export type { SqliteDatabase };

/** A LatchkeyStore on SQLite, with the database handle for the app's own tables. */
export interface SqliteStore extends LatchkeyStore {
  readonly db: SqliteDatabase;
}

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  filename: string;
}

const LATCHKEY_MIGRATIONS = [
  `CREATE TABLE latchkey_users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     name TEXT,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
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
   );
   CREATE INDEX latchkey_sessions_user ON latchkey_sessions (user_id, created_at);
   CREATE TABLE latchkey_rate_limits (
     key TEXT PRIMARY KEY,
     points INTEGER NOT NULL DEFAULT 0,
     expire INTEGER
   );`,
];

/**
 * Applies numbered migrations of one named set, each in its own transaction, and
 * records the version reached, so opening an up-to-date file does nothing. Apps use
 * it for their own tables in the same file.
 */
export function applyMigrations(
  db: SqliteDatabase,
  name: string,
  migrations: readonly string[],
): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS latchkey_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL)`,
  );
  const row = db
    .prepare<[string], { version: number }>(
      'SELECT version FROM latchkey_migrations WHERE name = ?',
    )
    .get(name);
  const current = row?.version ?? 0;
  migrations.slice(current).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.prepare(
        'INSERT INTO latchkey_migrations (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version',
      ).run(name, current + i + 1);
    }).immediate();
  });
}

interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  rotated_at: number | null;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
}

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  created_at: number;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  userId: r.user_id,
  secretHash: r.secret_hash,
  previousSecretHash: r.previous_secret_hash,
  rotatedAt: r.rotated_at,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  idleExpiresAt: r.idle_expires_at,
  expiresAt: r.expires_at,
  userAgent: r.user_agent,
  ip: r.ip,
});

/**
 * The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`,
 * so a write that has resolved survives a SIGKILL or power loss. better-sqlite3 is
 * synchronous; each call is a primary-key or indexed statement of microseconds,
 * prepared once. Migrations run here, at start-up.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  mkdirSync(dirname(options.filename), { recursive: true });
  const db = new Database(options.filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  applyMigrations(db, 'latchkey', LATCHKEY_MIGRATIONS);

  const q = {
    insertUser: db.prepare(
      'INSERT INTO latchkey_users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    userByEmail: db.prepare<[string], UserRow>('SELECT * FROM latchkey_users WHERE email = ?'),
    userById: db.prepare<[string], UserRow>('SELECT * FROM latchkey_users WHERE id = ?'),
    setPassword: db.prepare('UPDATE latchkey_users SET password_hash = ? WHERE id = ?'),
    insertSession: db.prepare(
      `INSERT INTO latchkey_sessions (id, user_id, secret_hash, previous_secret_hash, rotated_at, created_at,
         last_seen_at, idle_expires_at, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    session: db.prepare<[string], SessionRow>('SELECT * FROM latchkey_sessions WHERE id = ?'),
    touch: db.prepare(
      'UPDATE latchkey_sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ?',
    ),
    rotate: db.prepare(
      `UPDATE latchkey_sessions SET secret_hash = ?, previous_secret_hash = ?, rotated_at = ?, last_seen_at = ?,
         idle_expires_at = ? WHERE id = ? AND secret_hash = ?`,
    ),
    deleteSession: db.prepare('DELETE FROM latchkey_sessions WHERE id = ?'),
    userSessions: db.prepare<[string, number, number], SessionRow>(
      `SELECT * FROM latchkey_sessions WHERE user_id = ? AND expires_at > ? AND idle_expires_at > ?
       ORDER BY created_at, id`,
    ),
    deleteUserSessions: db.prepare(
      'DELETE FROM latchkey_sessions WHERE user_id = ? AND id IS NOT ?',
    ),
    deleteExpired: db.prepare(
      'DELETE FROM latchkey_sessions WHERE expires_at <= ? OR idle_expires_at <= ?',
    ),
    ping: db.prepare('SELECT 1'),
  };

  // better-sqlite3 is synchronous: wrapping in an async function turns a thrown
  // fault into a rejection the core maps to 503.
  const run = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

  return {
    name: 'sqlite',
    db,
    users: {
      createUser: (u) =>
        run(
          () => q.insertUser.run(u.id, u.email, u.name, u.passwordHash, u.createdAt).changes === 1,
        ),
      getUserByEmail: (email) =>
        run(() => {
          const row = q.userByEmail.get(email);
          return row ? toUser(row) : null;
        }),
      getUserById: (id) =>
        run(() => {
          const row = q.userById.get(id);
          return row ? toUser(row) : null;
        }),
      setPasswordHash: (userId, hash) => run(() => void q.setPassword.run(hash, userId)),
    },
    sessions: {
      createSession: (s) =>
        run(
          () =>
            void q.insertSession.run(
              s.id,
              s.userId,
              s.secretHash,
              s.previousSecretHash,
              s.rotatedAt,
              s.createdAt,
              s.lastSeenAt,
              s.idleExpiresAt,
              s.expiresAt,
              s.userAgent,
              s.ip,
            ),
        ),
      getSession: (id) =>
        run(() => {
          const row = q.session.get(id);
          return row ? toSession(row) : null;
        }),
      touchSession: (id, lastSeenAt, idleExpiresAt) =>
        run(() => void q.touch.run(lastSeenAt, idleExpiresAt, id)),
      // One UPDATE with the expected hash in its WHERE clause: a compare-and-set.
      rotateSecret: (id, expected, n) =>
        run(
          () =>
            q.rotate.run(
              n.secretHash,
              n.previousSecretHash,
              n.rotatedAt,
              n.lastSeenAt,
              n.idleExpiresAt,
              id,
              expected,
            ).changes === 1,
        ),
      deleteSession: (id) => run(() => q.deleteSession.run(id).changes > 0),
      listUserSessions: (userId, now) =>
        run(() => q.userSessions.all(userId, now, now).map(toSession)),
      deleteUserSessions: (userId, exceptId) =>
        run(() => q.deleteUserSessions.run(userId, exceptId ?? null).changes),
      deleteExpiredSessions: (now) => run(() => q.deleteExpired.run(now, now).changes),
    },
    rateLimits: {
      createLimiter: (limiter) =>
        fromRateLimiterFlexible(
          new RateLimiterSQLite({
            ...rateLimiterFlexibleOptions(limiter),
            storeClient: db,
            storeType: 'better-sqlite3',
            tableName: 'latchkey_rate_limits',
            tableCreated: true,
          }),
        ),
    },
    ping: () => run(() => void q.ping.get()),
    close: () =>
      run(() => {
        if (db.open) db.close();
      }),
  };
}
