import type { SessionStore } from '@latchkey/core/store-kit';
import { firstRecord, type Queries } from './queries.js';
import { toSession, type SessionRow } from './rows.js';

/**
 * Sessions in `latchkey_sessions`. Rotation is one compare-and-set `UPDATE … WHERE
 * id = $1 AND secret_hash = $2`: of two concurrent rotations the second waits for the
 * first's row lock, re-checks the hash and matches nothing. The expiry sweep deletes
 * `sweepBatchSize` rows per statement, so it never holds many locks.
 */
export function createSessionStore(
  { pool, run, tables: { sessions, limits } }: Queries,
  sweepBatchSize: number,
): SessionStore {
  /** Deletes matching rows `sweepBatchSize` at a time; skips rows another transaction holds. */
  async function deleteInBatches(table: string, key: string, where: string, value: number) {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(
        `DELETE FROM ${table} WHERE ${key} IN (
           SELECT ${key} FROM ${table} WHERE ${where} LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [value, sweepBatchSize],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < sweepBatchSize) return total;
    }
  }

  return {
    async createSession(x) {
      await run(
        'create-session',
        `INSERT INTO ${sessions} (id, user_id, secret_hash, previous_secret_hash, rotated_at,
           created_at, last_seen_at, idle_expires_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          x.id,
          x.userId,
          x.secretHash,
          x.previousSecretHash,
          x.rotatedAt,
          x.createdAt,
          x.lastSeenAt,
          x.idleExpiresAt,
          x.expiresAt,
          x.userAgent,
          x.ip,
        ],
      );
    },
    async getSession(id) {
      const found = await run<SessionRow>(
        'session-by-id',
        `SELECT * FROM ${sessions} WHERE id = $1`,
        [id],
      );
      return firstRecord(found, toSession);
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      await run(
        'touch-session',
        `UPDATE ${sessions} SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1`,
        [id, lastSeenAt, idleExpiresAt],
      );
    },
    async rotateSecret(id, expectedSecretHash, next) {
      // The WHERE clause is the compare-and-set (see the doc comment).
      const { rowCount } = await run(
        'rotate-secret',
        `UPDATE ${sessions} SET secret_hash = $3, previous_secret_hash = $4, rotated_at = $5,
           last_seen_at = $6, idle_expires_at = $7
         WHERE id = $1 AND secret_hash = $2`,
        [
          id,
          expectedSecretHash,
          next.secretHash,
          next.previousSecretHash,
          next.rotatedAt,
          next.lastSeenAt,
          next.idleExpiresAt,
        ],
      );
      return rowCount === 1;
    },
    async deleteSession(id) {
      const { rowCount } = await run('delete-session', `DELETE FROM ${sessions} WHERE id = $1`, [
        id,
      ]);
      return (rowCount ?? 0) > 0;
    },
    async listUserSessions(userId, now) {
      const { rows } = await run<SessionRow>(
        'list-sessions',
        `SELECT * FROM ${sessions}
         WHERE user_id = $1 AND expires_at > $2 AND idle_expires_at > $2
         ORDER BY created_at, id COLLATE "C"`,
        [userId, now],
      );
      return rows.map(toSession);
    },
    async deleteUserSessions(userId, exceptId) {
      const { rowCount } = await run(
        'delete-user-sessions',
        `DELETE FROM ${sessions} WHERE user_id = $1 AND id IS DISTINCT FROM $2`,
        [userId, exceptId ?? null],
      );
      return rowCount ?? 0;
    },
    async deleteExpiredSessions(now) {
      // rate-limiter-flexible dates its windows by Date.now(), so its rows are swept by that clock.
      await deleteInBatches(limits, 'key', 'expire <= $1', Date.now());
      return deleteInBatches(sessions, 'id', 'LEAST(idle_expires_at, expires_at) <= $1', now);
    },
  };
}
