import type { RecordStore } from '@latchkey/core/store-kit';
import { firstRecord, type Queries } from './queries.js';
import { toStoredRecord, type RecordRow } from './rows.js';

const LIVE = '(expires_at IS NULL OR expires_at > $3)';

/**
 * Feature records in `latchkey_records`. Each single-record operation is one
 * statement: an `INSERT … ON CONFLICT` that replaces only an expired row (so of two
 * concurrent creates one wins), a `DELETE … RETURNING` (a concurrent take waits for
 * the row lock and then finds it gone), an `UPDATE … WHERE data = $4` compare-and-set.
 */
export function createRecordStore({ run, tables: { records } }: Queries): RecordStore {
  return {
    async createRecord(r, now) {
      const { rowCount } = await run(
        'create-record',
        `INSERT INTO ${records} AS r (kind, id, user_id, data, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data,
           created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE r.expires_at IS NOT NULL AND r.expires_at <= $7`,
        [r.kind, r.id, r.userId, r.data, r.createdAt, r.expiresAt, now],
      );
      return rowCount === 1;
    },
    async getRecord(kind, id, now) {
      const found = await run<RecordRow>(
        'record-by-id',
        `SELECT * FROM ${records} WHERE kind = $1 AND id = $2 AND ${LIVE}`,
        [kind, id, now],
      );
      return firstRecord(found, toStoredRecord);
    },
    async takeRecord(kind, id, now) {
      const taken = await run<RecordRow>(
        'take-record',
        `DELETE FROM ${records} WHERE kind = $1 AND id = $2 AND ${LIVE} RETURNING *`,
        [kind, id, now],
      );
      return firstRecord(taken, toStoredRecord);
    },
    async replaceRecord(kind, id, expectedData, next, now) {
      const { rowCount } = await run(
        'replace-record',
        `UPDATE ${records} SET data = $5, expires_at = $6
         WHERE kind = $1 AND id = $2 AND ${LIVE} AND data = $4`,
        [kind, id, now, expectedData, next.data, next.expiresAt],
      );
      return rowCount === 1;
    },
    async deleteRecord(kind, id) {
      const { rowCount } = await run(
        'delete-record',
        `DELETE FROM ${records} WHERE kind = $1 AND id = $2`,
        [kind, id],
      );
      return (rowCount ?? 0) > 0;
    },
    async listUserRecords(kind, userId, now) {
      const { rows } = await run<RecordRow>(
        'list-user-records',
        `SELECT * FROM ${records} WHERE kind = $1 AND user_id = $2 AND ${LIVE}
         ORDER BY created_at, id`,
        [kind, userId, now],
      );
      return rows.map(toStoredRecord);
    },
    async deleteUserRecords(userId, kind) {
      const { rowCount } =
        kind === undefined
          ? await run('delete-user-records', `DELETE FROM ${records} WHERE user_id = $1`, [userId])
          : await run(
              'delete-user-records-of-kind',
              `DELETE FROM ${records} WHERE user_id = $1 AND kind = $2`,
              [userId, kind],
            );
      return rowCount ?? 0;
    },
    async deleteExpiredRecords(now) {
      const { rowCount } = await run(
        'delete-expired-records',
        `DELETE FROM ${records} WHERE expires_at IS NOT NULL AND expires_at <= $1`,
        [now],
      );
      return rowCount ?? 0;
    },
  };
}
