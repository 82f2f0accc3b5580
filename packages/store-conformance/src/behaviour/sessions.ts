import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, unique } from '../fixtures.js';
import { createdSession, createdUser, type CurrentStore } from '../under-test.js';
import { describeRotation } from './rotation.js';

/** Sessions: every field kept, touch, delete, list, revoke-all and the expiry sweep. */
export function describeSessions(t: CurrentStore): void {
  describe('sessions', () => {
    it('creates a session and reads every field back', async () => {
      const user = await createdUser(t.store);
      const plain = await createdSession(t.store, user.id, { userAgent: null, ip: null });
      const rotated = await createdSession(t.store, user.id, {
        previousSecretHash: unique('old-hash'),
        rotatedAt: Date.now() - MINUTE,
      });

      expect(await t.store.sessions.getSession(plain.id)).toEqual(plain);
      expect(await t.store.sessions.getSession(rotated.id)).toEqual(rotated);
      expect(await t.store.sessions.getSession(unique('session'))).toBeNull();
    });

    it('touch moves lastSeenAt and idleExpiresAt and nothing else', async () => {
      const user = await createdUser(t.store);
      const session = await createdSession(t.store, user.id);
      const other = await createdSession(t.store, user.id);
      const lastSeenAt = session.lastSeenAt + 5 * MINUTE;
      const idleExpiresAt = lastSeenAt + 30 * MINUTE;

      await t.store.sessions.touchSession(session.id, lastSeenAt, idleExpiresAt);

      expect(await t.store.sessions.getSession(session.id)).toEqual({
        ...session,
        lastSeenAt,
        idleExpiresAt,
      });
      expect(await t.store.sessions.getSession(other.id)).toEqual(other);
    });

    it('touch of an unknown id resolves and creates nothing', async () => {
      const id = unique('session');
      await expect(t.store.sessions.touchSession(id, Date.now(), Date.now() + HOUR)).resolves.toBe(
        undefined,
      );
      expect(await t.store.sessions.getSession(id)).toBeNull();
    });

    describeRotation(t);

    it('deleteSession reports whether it deleted and leaves other sessions', async () => {
      const user = await createdUser(t.store);
      const session = await createdSession(t.store, user.id);
      const other = await createdSession(t.store, user.id);

      expect(await t.store.sessions.deleteSession(session.id)).toBe(true);
      expect(await t.store.sessions.getSession(session.id)).toBeNull();
      expect(await t.store.sessions.deleteSession(session.id)).toBe(false);
      expect(await t.store.sessions.getSession(other.id)).toEqual(other);
    });

    it('lists a user’s live sessions oldest first, without expired or other users’ ones', async () => {
      const user = await createdUser(t.store);
      const stranger = await createdUser(t.store);
      const now = Date.now();
      // Created out of order, so the store must sort rather than keep insertion order.
      const middle = await createdSession(t.store, user.id, { createdAt: now - 2 * MINUTE });
      const oldest = await createdSession(t.store, user.id, { createdAt: now - 3 * MINUTE });
      const newest = await createdSession(t.store, user.id, { createdAt: now - MINUTE });
      // Expiry at exactly `now` counts as expired.
      await createdSession(t.store, user.id, { createdAt: now - 4 * MINUTE, idleExpiresAt: now });
      await createdSession(t.store, user.id, {
        createdAt: now - 5 * MINUTE,
        idleExpiresAt: now + HOUR,
        expiresAt: now,
      });
      await createdSession(t.store, user.id, {
        createdAt: now - 6 * MINUTE,
        idleExpiresAt: now - MINUTE,
      });
      await createdSession(t.store, stranger.id, { createdAt: now - 7 * MINUTE });

      expect(await t.store.sessions.listUserSessions(user.id, now)).toEqual([
        oldest,
        middle,
        newest,
      ]);
      expect(await t.store.sessions.listUserSessions(unique('user'), now)).toEqual([]);
    });

    it('deleteUserSessions keeps exceptId, spares other users and counts what it deleted', async () => {
      const user = await createdUser(t.store);
      const stranger = await createdUser(t.store);
      const kept = await createdSession(t.store, user.id);
      const doomed = [
        await createdSession(t.store, user.id),
        await createdSession(t.store, user.id),
      ];
      const strangers = await createdSession(t.store, stranger.id);

      expect(await t.store.sessions.deleteUserSessions(user.id, kept.id)).toBe(2);
      for (const s of doomed) expect(await t.store.sessions.getSession(s.id)).toBeNull();
      expect(await t.store.sessions.getSession(kept.id)).toEqual(kept);
      expect(await t.store.sessions.getSession(strangers.id)).toEqual(strangers);

      expect(await t.store.sessions.deleteUserSessions(user.id)).toBe(1);
      expect(await t.store.sessions.getSession(kept.id)).toBeNull();
      expect(await t.store.sessions.getSession(strangers.id)).toEqual(strangers);
      expect(await t.store.sessions.deleteUserSessions(user.id)).toBe(0);
    });

    it('deleteExpiredSessions removes sessions idle- or absolutely expired at now', async () => {
      const user = await createdUser(t.store);
      const now = Date.now();
      // All still live in real time, so a backend's native expiry leaves them in place;
      // the sweep runs at a `now` two hours ahead.
      const later = now + 2 * HOUR;
      const idle = await createdSession(t.store, user.id, { idleExpiresAt: now + HOUR });
      const absolute = await createdSession(t.store, user.id, {
        idleExpiresAt: later + HOUR,
        expiresAt: later,
      });
      const live = await createdSession(t.store, user.id, {
        idleExpiresAt: later + MINUTE,
        expiresAt: later + HOUR,
      });

      // At least ours: a shared backend may also hold other tests' expired sessions.
      expect(await t.store.sessions.deleteExpiredSessions(later)).toBeGreaterThanOrEqual(2);
      expect(await t.store.sessions.getSession(idle.id)).toBeNull();
      expect(await t.store.sessions.getSession(absolute.id)).toBeNull();
      expect(await t.store.sessions.getSession(live.id)).toEqual(live);
      expect(await t.store.sessions.listUserSessions(user.id, now)).toEqual([live]);
    });
  });
}
