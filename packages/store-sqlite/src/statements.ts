import type { Database } from 'better-sqlite3';
import type {
  SessionRecord,
  SessionRotation,
  StoredRecord,
  UserRecord,
} from '@latchkey/core/store-kit';
import { RATE_LIMIT_TABLE } from './schema.js';

const USER_COLUMNS = `id, email, name, password_hash AS passwordHash, created_at AS createdAt,
  email_verified_at AS emailVerifiedAt, mfa`;
const RECORD_COLUMNS = `kind, id, user_id AS userId, data, created_at AS createdAt,
  expires_at AS expiresAt`;

/** A users row: `mfa` is kept as a JSON array. */
export interface UserRow extends Omit<UserRecord, 'mfa'> {
  mfa: string;
}
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
    insertUser: db.prepare<UserRow>(
      `INSERT INTO latchkey_users (id, email, name, password_hash, created_at, email_verified_at, mfa)
       VALUES (@id, @email, @name, @passwordHash, @createdAt, @emailVerifiedAt, @mfa)
       ON CONFLICT (email) DO NOTHING`,
    ),
    userByEmail: db.prepare<[string], UserRow>(
      `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE email = ?`,
    ),
    userById: db.prepare<[string], UserRow>(
      `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE id = ?`,
    ),
    setEmailVerifiedAt: db.prepare<[number | null, string]>(
      'UPDATE latchkey_users SET email_verified_at = ? WHERE id = ?',
    ),
    setMfa: db.prepare<[string, string]>('UPDATE latchkey_users SET mfa = ? WHERE id = ?'),
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
    // An expired row is replaced; a live one makes the insert a no-op (changes = 0).
    insertRecord: db.prepare<StoredRecord & { now: number }>(
      `INSERT INTO latchkey_records (kind, id, user_id, data, created_at, expires_at)
       VALUES (@kind, @id, @userId, @data, @createdAt, @expiresAt)
       ON CONFLICT (kind, id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
         created_at = excluded.created_at, expires_at = excluded.expires_at
       WHERE latchkey_records.expires_at IS NOT NULL AND latchkey_records.expires_at <= @now`,
    ),
    recordById: db.prepare<[string, string, number], StoredRecord>(
      `SELECT ${RECORD_COLUMNS} FROM latchkey_records
       WHERE kind = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    takeRecord: db.prepare<[string, string, number], StoredRecord>(
      `DELETE FROM latchkey_records
       WHERE kind = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)
       RETURNING ${RECORD_COLUMNS}`,
    ),
    replaceRecord: db.prepare<{
      kind: string;
      id: string;
      expectedData: string;
      data: string;
      expiresAt: number | null;
      now: number;
    }>(
      `UPDATE latchkey_records SET data = @data, expires_at = @expiresAt
       WHERE kind = @kind AND id = @id AND data = @expectedData
         AND (expires_at IS NULL OR expires_at > @now)`,
    ),
    deleteRecord: db.prepare<[string, string]>(
      'DELETE FROM latchkey_records WHERE kind = ? AND id = ?',
    ),
    listUserRecords: db.prepare<[string, string, number], StoredRecord>(
      `SELECT ${RECORD_COLUMNS} FROM latchkey_records
       WHERE user_id = ? AND kind = ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY created_at, id`,
    ),
    deleteUserRecords: db.prepare<[string]>('DELETE FROM latchkey_records WHERE user_id = ?'),
    deleteUserRecordsOfKind: db.prepare<[string, string]>(
      'DELETE FROM latchkey_records WHERE user_id = ? AND kind = ?',
    ),
    deleteExpiredRecords: db.prepare<[number]>(
      'DELETE FROM latchkey_records WHERE expires_at IS NOT NULL AND expires_at <= ?',
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
