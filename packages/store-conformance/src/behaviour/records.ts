import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '@latchkey/core';
import { HOUR, MINUTE, unique } from '../fixtures.js';
import { createdUser, type CurrentStore } from '../under-test.js';

/** A record of `userId` (or unowned), live for an hour unless `overrides` say otherwise. */
function newRecord(userId: string | null, overrides: Partial<StoredRecord> = {}): StoredRecord {
  const now = Date.now();
  return {
    kind: 'conformance',
    id: unique('record'),
    userId,
    data: JSON.stringify({ value: unique('data') }),
    createdAt: now,
    expiresAt: now + HOUR,
    ...overrides,
  };
}

/**
 * Feature records: create-if-absent (a lock, a "seen once" marker), single-use take,
 * compare-and-set, per-user listing and deletion, expiry.
 */
export function describeRecords(t: CurrentStore): void {
  describe('records', () => {
    it('creates a record and reads it back; a second create of the same id is refused', async () => {
      const user = await createdUser(t.store);
      const record = newRecord(user.id);
      const now = Date.now();

      expect(await t.store.records.createRecord(record, now)).toBe(true);
      expect(await t.store.records.getRecord(record.kind, record.id, now)).toEqual(record);
      const rival = { ...record, data: '"rival"' };
      expect(await t.store.records.createRecord(rival, now)).toBe(false);
      expect(await t.store.records.getRecord(record.kind, record.id, now)).toEqual(record);
    });

    it('keeps records without an owner or an expiry', async () => {
      const record = newRecord(null, { expiresAt: null });
      expect(await t.store.records.createRecord(record, Date.now())).toBe(true);
      expect(
        await t.store.records.getRecord(record.kind, record.id, Date.now() + 365 * 24 * HOUR),
      ).toEqual(record);
    });

    it('the same id under another kind is another record', async () => {
      const record = newRecord(null);
      const now = Date.now();
      expect(await t.store.records.createRecord(record, now)).toBe(true);
      expect(await t.store.records.createRecord({ ...record, kind: 'other-kind' }, now)).toBe(true);
      expect(await t.store.records.getRecord('other-kind', record.id, now)).toMatchObject({
        kind: 'other-kind',
      });
    });

    it('of many concurrent creates of one id exactly one wins', async () => {
      const id = unique('lock');
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.store.records.createRecord(newRecord(null, { id, data: `"${i}"` }), now),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('treats an expired record as absent, and a create replaces it', async () => {
      const now = Date.now();
      const record = newRecord(null, { expiresAt: now + MINUTE });
      expect(await t.store.records.createRecord(record, now)).toBe(true);
      const later = now + MINUTE;
      expect(await t.store.records.getRecord(record.kind, record.id, later)).toBeNull();
      expect(await t.store.records.takeRecord(record.kind, record.id, later)).toBeNull();

      const next = { ...record, data: '"next"', expiresAt: later + HOUR };
      expect(await t.store.records.createRecord(next, later)).toBe(true);
      expect(await t.store.records.getRecord(record.kind, record.id, later)).toEqual(next);
    });

    it('take returns the record once and deletes it; concurrent takes: exactly one gets it', async () => {
      const now = Date.now();
      const record = newRecord(null);
      await t.store.records.createRecord(record, now);
      expect(await t.store.records.takeRecord(record.kind, record.id, now)).toEqual(record);
      expect(await t.store.records.takeRecord(record.kind, record.id, now)).toBeNull();
      expect(await t.store.records.getRecord(record.kind, record.id, now)).toBeNull();

      const raced = newRecord(null);
      await t.store.records.createRecord(raced, now);
      const takes = await Promise.all(
        Array.from({ length: 8 }, () => t.store.records.takeRecord(raced.kind, raced.id, now)),
      );
      expect(takes.filter((r) => r !== null)).toEqual([raced]);
    });

    it('replace is a compare-and-set on the data', async () => {
      const now = Date.now();
      const record = newRecord(null);
      await t.store.records.createRecord(record, now);
      const next = { data: '"second"', expiresAt: now + 2 * HOUR };

      expect(
        await t.store.records.replaceRecord(record.kind, record.id, '"stale"', next, now),
      ).toBe(false);
      expect(
        await t.store.records.replaceRecord(record.kind, record.id, record.data, next, now),
      ).toBe(true);
      expect(await t.store.records.getRecord(record.kind, record.id, now)).toEqual({
        ...record,
        ...next,
      });
      expect(
        await t.store.records.replaceRecord(record.kind, record.id, record.data, next, now),
      ).toBe(false);
      expect(
        await t.store.records.replaceRecord(record.kind, unique('missing'), record.data, next, now),
      ).toBe(false);
    });

    it('of concurrent compare-and-sets from one state exactly one applies', async () => {
      const now = Date.now();
      const record = newRecord(null);
      await t.store.records.createRecord(record, now);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.store.records.replaceRecord(
            record.kind,
            record.id,
            record.data,
            { data: `"${i}"`, expiresAt: record.expiresAt },
            now,
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('lists a user’s live records of one kind, oldest first', async () => {
      const user = await createdUser(t.store);
      const other = await createdUser(t.store);
      const now = Date.now();
      const second = newRecord(user.id, { createdAt: now - 1000 });
      const first = newRecord(user.id, { createdAt: now - 2000 });
      const expired = newRecord(user.id, { createdAt: now - 3000, expiresAt: now - 1 });
      const otherKind = newRecord(user.id, { kind: 'other-kind' });
      const othersRecord = newRecord(other.id);
      for (const r of [second, first, expired, otherKind, othersRecord]) {
        expect(await t.store.records.createRecord(r, now - 5000)).toBe(true);
      }

      expect(await t.store.records.listUserRecords('conformance', user.id, now)).toEqual([
        first,
        second,
      ]);
      expect(await t.store.records.listUserRecords('other-kind', user.id, now)).toEqual([
        otherKind,
      ]);
      expect(await t.store.records.listUserRecords('conformance', unique('nobody'), now)).toEqual(
        [],
      );
    });

    it('deletes one record, a user’s records of one kind, or all of them; others stay', async () => {
      const user = await createdUser(t.store);
      const other = await createdUser(t.store);
      const now = Date.now();
      const a = newRecord(user.id);
      const b = newRecord(user.id);
      const c = newRecord(user.id, { kind: 'other-kind' });
      const d = newRecord(user.id, { kind: 'third-kind' });
      const kept = newRecord(other.id);
      for (const r of [a, b, c, d, kept]) await t.store.records.createRecord(r, now);

      expect(await t.store.records.deleteRecord(a.kind, a.id)).toBe(true);
      expect(await t.store.records.deleteRecord(a.kind, a.id)).toBe(false);
      expect(await t.store.records.getRecord(a.kind, a.id, now)).toBeNull();

      expect(await t.store.records.deleteUserRecords(user.id, 'other-kind')).toBe(1);
      expect(await t.store.records.getRecord(c.kind, c.id, now)).toBeNull();
      expect(await t.store.records.getRecord(b.kind, b.id, now)).toEqual(b);

      expect(await t.store.records.deleteUserRecords(user.id)).toBe(2);
      expect(await t.store.records.getRecord(b.kind, b.id, now)).toBeNull();
      expect(await t.store.records.getRecord(d.kind, d.id, now)).toBeNull();
      expect(await t.store.records.getRecord(kept.kind, kept.id, now)).toEqual(kept);
    });

    it('the sweep removes expired records only', async () => {
      const now = Date.now();
      const expired = newRecord(null, { expiresAt: now + MINUTE });
      const live = newRecord(null, { expiresAt: now + HOUR });
      const forever = newRecord(null, { expiresAt: null });
      for (const r of [expired, live, forever]) await t.store.records.createRecord(r, now);

      expect(await t.store.records.deleteExpiredRecords(now + 2 * MINUTE)).toBeGreaterThanOrEqual(
        1,
      );
      expect(await t.store.records.getRecord(expired.kind, expired.id, now)).toBeNull();
      expect(await t.store.records.getRecord(live.kind, live.id, now)).toEqual(live);
      expect(await t.store.records.getRecord(forever.kind, forever.id, now)).toEqual(forever);
    });
  });
}
