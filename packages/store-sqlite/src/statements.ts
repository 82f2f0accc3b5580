import type { Database } from 'better-sqlite3';
import type { SessionRecord, SessionRotation, UserRecord } from '@latchkey/core/store-kit';
import { RATE_LIMIT_TABLE } from './schema.js';

const USER_COLUMNS = 'id, email, name, password_hash AS passwordHash, created_at AS createdAt';
const SESSION_COLUMNS = `id, user_id AS userId, secret_hash AS secretHash,
  previous_secret_hash AS previousSecretHash, rotated_at AS rotatedAt, created_at AS createdAt,
  last_seen_at AS lastSeenAt, idle_expires_at AS idleExpiresAt, expires_at AS expiresAt,
  user_agent AS userAgent, ip`;

/**
 * Every statement the store runs, prepared once on `db`; columns aliased to the records' names.
 * @internal Its inferred type names better-sqlite3's unexported statement type, so it is
 * left out of the published .d.ts (`stripInternal`); nothing public refers to it.
 */
export function prepareStatements(db: Database) {
  return {
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
    // The sessions go with the user: `ON DELETE CASCADE` (foreign_keys is on).
    deleteUser: db.prepare<[string]>('DELETE FROM latchkey_users WHERE id = ?'),
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
}

/** @internal */
export type Statements = ReturnType<typeof prepareStatements>;
