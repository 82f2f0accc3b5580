import type { RecordStore, StoredRecord } from '@latchkey/core/store-kit';
import { primaries } from './connection.js';
import type { RedisKeys } from './keys.js';
import { pairs, recordFields, toRecord } from './records.js';
import type { ScriptedRedis } from './scripts.js';

/*
 * Feature records (key layout in keys.ts). Like sessions, a record key is hashed by
 * its own kind and id (one round trip to read it) and the user's index by the user's
 * tag, so the multi-key operations are single-slot steps in a safe order:
 *
 *   - createRecord writes the record (one script: create-if-absent, native expiry),
 *     then indexes it; if indexing fails the record is taken back and the call rejects.
 *   - An index entry whose record is gone is a deleted or expired record: listing
 *     skips it and drops it from the index.
 *   - deleteUserRecords deletes through the index, each record only if it still names
 *     the user, then clears the index.
 *
 * Every read checks `expiresAt` against the caller's `now` as well as Redis' own TTL.
 */

const SCAN_COUNT = '1000';

const isLive = (record: StoredRecord, now: number) =>
  record.expiresAt === null || record.expiresAt > now;

export function createFeatureRecordStore(redis: ScriptedRedis, keys: RedisKeys): RecordStore {
  const recordKeyStart = keys.record('', '');

  async function index(record: StoredRecord): Promise<void> {
    if (record.userId === null) return;
    await redis.zadd(keys.recordIndex(record.userId, record.kind), record.createdAt, record.id);
    await redis.sadd(keys.recordKinds(record.userId), record.kind);
  }

  async function deleteIndexed(userId: string, kind: string): Promise<number> {
    const indexKey = keys.recordIndex(userId, kind);
    const ids = await redis.zrange(indexKey, '0', '-1');
    const deleted = await Promise.all(
      ids.map((id) => redis.latchkeyDeleteRecordOf(keys.record(kind, id), userId)),
    );
    if (ids.length > 0) await redis.zrem(indexKey, ...ids);
    return deleted.reduce((sum: number, n) => sum + n, 0);
  }

  return {
    async createRecord(record, now) {
      const key = keys.record(record.kind, record.id);
      const created = await redis.latchkeyCreateRecord(
        key,
        String(now),
        record.expiresAt === null ? '' : String(record.expiresAt),
        ...recordFields(record),
      );
      if (created !== 1) return false;
      try {
        await index(record);
      } catch (error) {
        // Unindexed, account deletion would miss it: take it back.
        await redis.del(key).catch(() => undefined);
        throw error;
      }
      return true;
    },
    async getRecord(kind, id, now) {
      const record = toRecord(await redis.hgetall(keys.record(kind, id)));
      return record && isLive(record, now) ? record : null;
    },
    async takeRecord(kind, id, now) {
      return toRecord(pairs(await redis.latchkeyTakeRecord(keys.record(kind, id), String(now))));
    },
    async replaceRecord(kind, id, expectedData, next, now) {
      const replaced = await redis.latchkeyReplaceRecord(
        keys.record(kind, id),
        String(now),
        expectedData,
        next.data,
        next.expiresAt === null ? '' : String(next.expiresAt),
      );
      return replaced === 1;
    },
    async deleteRecord(kind, id) {
      return (await redis.del(keys.record(kind, id))) > 0;
    },
    async listUserRecords(kind, userId, now) {
      const indexKey = keys.recordIndex(userId, kind);
      const ids = await redis.zrange(indexKey, '0', '-1');
      const found = await Promise.all(ids.map((id) => redis.hgetall(keys.record(kind, id))));
      const records: StoredRecord[] = [];
      const gone: string[] = [];
      found.forEach((hash, i) => {
        const record = toRecord(hash);
        if (record?.userId === userId) {
          if (isLive(record, now)) records.push(record);
        } else if (record === null) {
          gone.push(ids[i] as string);
        }
      });
      if (gone.length > 0) await redis.zrem(indexKey, ...gone);
      // The index orders by createdAt then id, as the other backends do.
      return records;
    },
    async deleteUserRecords(userId, kind) {
      const kinds = kind === undefined ? await redis.smembers(keys.recordKinds(userId)) : [kind];
      let count = 0;
      for (const k of kinds) count += await deleteIndexed(userId, k);
      if (kind === undefined) await redis.del(keys.recordKinds(userId));
      return count;
    },
    async deleteExpiredRecords(now) {
      // Redis expires records by itself; this sweep is for a `now` ahead of Redis'
      // clock, and walks the whole prefix on every primary: run it rarely.
      let count = 0;
      for (const node of primaries(redis)) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            `${recordKeyStart.slice(0, -1)}*`,
            'COUNT',
            SCAN_COUNT,
          );
          cursor = next;
          const owners = await Promise.all(
            found.map((key) => redis.latchkeyDeleteExpiredRecord(key, String(now))),
          );
          count += owners.filter((owner) => owner !== null).length;
        } while (cursor !== '0');
      }
      return count;
    },
  };
}
