import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LatchkeyStore, SessionRecord, UserRecord } from '@latchkey/core';
import { HOUR, MINUTE, newSession, newUser, unique } from './fixtures.js';

export * from './fixtures.js';
export * from './faults.js';
export * from './processes.js';

/** What a store's test file hands the suite: a fresh store and how to dispose of it. */
export interface StoreUnderTest {
  store: LatchkeyStore;
  cleanup: () => Promise<void>;
}

/**
 * The behaviour every LatchkeyStore must show, as one vitest suite. A store's test
 * file calls it with a factory; each test gets a fresh store from `makeStore` and
 * calls `cleanup` afterwards. Creates its own users before their sessions, so a
 * backend may enforce the foreign key.
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`store conformance: ${name}`, () => {
    let store: LatchkeyStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    async function createdUser(overrides: Partial<UserRecord> = {}): Promise<UserRecord> {
      const user = newUser(overrides);
      expect(await store.users.createUser(user)).toBe(true);
      return user;
    }

    async function createdSession(
      userId: string,
      overrides: Partial<SessionRecord> = {},
    ): Promise<SessionRecord> {
      const session = newSession(userId, overrides);
      await store.sessions.createSession(session);
      return session;
    }

    describe('store', () => {
      it('has a name and answers ping', async () => {
        expect(store.name).toMatch(/^[a-z][a-z0-9-]*$/);
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('users', () => {
      it('creates a user and finds it by id and by email', async () => {
        const user = await createdUser();
        expect(await store.users.getUserById(user.id)).toEqual(user);
        expect(await store.users.getUserByEmail(user.email)).toEqual(user);
      });

      it('keeps a null name as null', async () => {
        const user = await createdUser({ name: null });
        expect(await store.users.getUserById(user.id)).toEqual(user);
      });

      it('returns null for an unknown id or email', async () => {
        await createdUser();
        expect(await store.users.getUserById(unique('user'))).toBeNull();
        expect(await store.users.getUserByEmail(`${unique('nobody')}@example.test`)).toBeNull();
      });

      it('refuses a taken email and leaves the first user intact', async () => {
        const first = await createdUser();
        const second = newUser({ email: first.email, name: 'Impostor' });

        expect(await store.users.createUser(second)).toBe(false);
        expect(await store.users.getUserByEmail(first.email)).toEqual(first);
        expect(await store.users.getUserById(second.id)).toBeNull();
      });

      it('returns a copy: changing a returned record does not change the store', async () => {
        const user = await createdUser();
        const fetched = await store.users.getUserById(user.id);
        if (!fetched) throw new Error('user not found');
        fetched.passwordHash = 'tampered';
        expect(await store.users.getUserById(user.id)).toEqual(user);
      });

      it('sets the password hash of that user only', async () => {
        const user = await createdUser();
        const other = await createdUser();

        await store.users.setPasswordHash(user.id, '$argon2id$new-hash');

        expect(await store.users.getUserById(user.id)).toEqual({
          ...user,
          passwordHash: '$argon2id$new-hash',
        });
        expect(await store.users.getUserByEmail(user.email)).toMatchObject({
          passwordHash: '$argon2id$new-hash',
        });
        expect(await store.users.getUserById(other.id)).toEqual(other);
      });
    });

    describe('sessions', () => {
      it('creates a session and reads every field back', async () => {
        const user = await createdUser();
        const plain = await createdSession(user.id, { userAgent: null, ip: null });
        const rotated = await createdSession(user.id, {
          previousSecretHash: unique('old-hash'),
          rotatedAt: Date.now() - MINUTE,
        });

        expect(await store.sessions.getSession(plain.id)).toEqual(plain);
        expect(await store.sessions.getSession(rotated.id)).toEqual(rotated);
        expect(await store.sessions.getSession(unique('session'))).toBeNull();
      });

      it('touch moves lastSeenAt and idleExpiresAt and nothing else', async () => {
        const user = await createdUser();
        const session = await createdSession(user.id);
        const other = await createdSession(user.id);
        const lastSeenAt = session.lastSeenAt + 5 * MINUTE;
        const idleExpiresAt = lastSeenAt + 30 * MINUTE;

        await store.sessions.touchSession(session.id, lastSeenAt, idleExpiresAt);

        expect(await store.sessions.getSession(session.id)).toEqual({
          ...session,
          lastSeenAt,
          idleExpiresAt,
        });
        expect(await store.sessions.getSession(other.id)).toEqual(other);
      });

      it('touch of an unknown id resolves and creates nothing', async () => {
        const id = unique('session');
        await expect(store.sessions.touchSession(id, Date.now(), Date.now() + HOUR)).resolves.toBe(
          undefined,
        );
        expect(await store.sessions.getSession(id)).toBeNull();
      });

      describe('rotateSecret', () => {
        const rotation = (secretHash: string) => {
          const now = Date.now();
          return {
            secretHash,
            previousSecretHash: unique('previous'),
            rotatedAt: now,
            lastSeenAt: now,
            idleExpiresAt: now + 30 * MINUTE,
          };
        };

        it('refuses a wrong expectation and changes nothing', async () => {
          const user = await createdUser();
          const session = await createdSession(user.id);

          const applied = await store.sessions.rotateSecret(
            session.id,
            unique('wrong'),
            rotation(unique('next')),
          );

          expect(applied).toBe(false);
          expect(await store.sessions.getSession(session.id)).toEqual(session);
        });

        it('applies the rotation when the expectation holds, then only for the new hash', async () => {
          const user = await createdUser();
          const session = await createdSession(user.id);
          const next = rotation(unique('next'));

          expect(await store.sessions.rotateSecret(session.id, session.secretHash, next)).toBe(
            true,
          );
          expect(await store.sessions.getSession(session.id)).toEqual({ ...session, ...next });

          // The old hash is spent: replaying it must not rotate again.
          const replay = rotation(unique('replay'));
          expect(await store.sessions.rotateSecret(session.id, session.secretHash, replay)).toBe(
            false,
          );
          expect(await store.sessions.getSession(session.id)).toEqual({ ...session, ...next });
        });

        it('returns false for an unknown session', async () => {
          const id = unique('session');
          expect(await store.sessions.rotateSecret(id, unique('hash'), rotation('x'))).toBe(false);
          expect(await store.sessions.getSession(id)).toBeNull();
        });

        it('lets exactly one of 20 concurrent rotations with the same expectation win', async () => {
          const user = await createdUser();
          const session = await createdSession(user.id);
          const attempts = Array.from({ length: 20 }, (_, i) => rotation(`${unique('next')}-${i}`));

          const results = await Promise.all(
            attempts.map((next) =>
              store.sessions.rotateSecret(session.id, session.secretHash, next),
            ),
          );

          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = attempts[results.indexOf(true)];
          expect(await store.sessions.getSession(session.id)).toEqual({ ...session, ...winner });
        });
      });

      it('deleteSession reports whether it deleted and leaves other sessions', async () => {
        const user = await createdUser();
        const session = await createdSession(user.id);
        const other = await createdSession(user.id);

        expect(await store.sessions.deleteSession(session.id)).toBe(true);
        expect(await store.sessions.getSession(session.id)).toBeNull();
        expect(await store.sessions.deleteSession(session.id)).toBe(false);
        expect(await store.sessions.getSession(other.id)).toEqual(other);
      });

      it('lists a user’s live sessions oldest first, without expired or other users’ ones', async () => {
        const user = await createdUser();
        const stranger = await createdUser();
        const now = Date.now();
        // Created out of order, so the store must sort rather than keep insertion order.
        const middle = await createdSession(user.id, { createdAt: now - 2 * MINUTE });
        const oldest = await createdSession(user.id, { createdAt: now - 3 * MINUTE });
        const newest = await createdSession(user.id, { createdAt: now - MINUTE });
        // Expiry at exactly `now` counts as expired.
        await createdSession(user.id, { createdAt: now - 4 * MINUTE, idleExpiresAt: now });
        await createdSession(user.id, {
          createdAt: now - 5 * MINUTE,
          idleExpiresAt: now + HOUR,
          expiresAt: now,
        });
        await createdSession(user.id, {
          createdAt: now - 6 * MINUTE,
          idleExpiresAt: now - MINUTE,
        });
        await createdSession(stranger.id, { createdAt: now - 7 * MINUTE });

        expect(await store.sessions.listUserSessions(user.id, now)).toEqual([
          oldest,
          middle,
          newest,
        ]);
        expect(await store.sessions.listUserSessions(unique('user'), now)).toEqual([]);
      });

      it('deleteUserSessions keeps exceptId, spares other users and counts what it deleted', async () => {
        const user = await createdUser();
        const stranger = await createdUser();
        const kept = await createdSession(user.id);
        const doomed = [await createdSession(user.id), await createdSession(user.id)];
        const strangers = await createdSession(stranger.id);

        expect(await store.sessions.deleteUserSessions(user.id, kept.id)).toBe(2);
        for (const s of doomed) expect(await store.sessions.getSession(s.id)).toBeNull();
        expect(await store.sessions.getSession(kept.id)).toEqual(kept);
        expect(await store.sessions.getSession(strangers.id)).toEqual(strangers);

        expect(await store.sessions.deleteUserSessions(user.id)).toBe(1);
        expect(await store.sessions.getSession(kept.id)).toBeNull();
        expect(await store.sessions.getSession(strangers.id)).toEqual(strangers);
        expect(await store.sessions.deleteUserSessions(user.id)).toBe(0);
      });

      it('deleteExpiredSessions removes sessions idle- or absolutely expired at now', async () => {
        const user = await createdUser();
        const now = Date.now();
        // All still live in real time, so a backend's native expiry leaves them in place;
        // the sweep runs at a `now` two hours ahead.
        const later = now + 2 * HOUR;
        const idle = await createdSession(user.id, { idleExpiresAt: now + HOUR });
        const absolute = await createdSession(user.id, {
          idleExpiresAt: later + HOUR,
          expiresAt: later,
        });
        const live = await createdSession(user.id, {
          idleExpiresAt: later + MINUTE,
          expiresAt: later + HOUR,
        });

        // At least ours: a shared backend may also hold other tests' expired sessions.
        expect(await store.sessions.deleteExpiredSessions(later)).toBeGreaterThanOrEqual(2);
        expect(await store.sessions.getSession(idle.id)).toBeNull();
        expect(await store.sessions.getSession(absolute.id)).toBeNull();
        expect(await store.sessions.getSession(live.id)).toEqual(live);
        expect(await store.sessions.listUserSessions(user.id, now)).toEqual([live]);
      });
    });

    describe('rate limits', () => {
      const windowMs = 15 * MINUTE;
      const limiter = (limiterName = unique('limit')) =>
        store.rateLimits.createLimiter({ name: limiterName, windowMs });

      it('counts hits in a window, reports the time left and resets', async () => {
        const counter = limiter();
        const key = unique('key');

        expect(await counter.get(key)).toBeNull();
        expect((await counter.hit(key)).consumed).toBe(1);
        expect((await counter.hit(key)).consumed).toBe(2);
        const third = await counter.hit(key);
        expect(third.consumed).toBe(3);
        expect(third.msBeforeNext).toBeGreaterThan(0);
        expect(third.msBeforeNext).toBeLessThanOrEqual(windowMs);

        const state = await counter.get(key);
        expect(state?.consumed).toBe(3);
        expect(state?.msBeforeNext).toBeGreaterThan(windowMs - MINUTE);

        await counter.reset(key);
        expect(await counter.get(key)).toBeNull();
        expect((await counter.hit(key)).consumed).toBe(1);
      });

      it('takes a hit back on refund, never below zero', async () => {
        const counter = limiter();
        const key = unique('key');
        await counter.hit(key);
        await counter.hit(key);
        await counter.refund(key);
        expect((await counter.get(key))?.consumed).toBe(1);
        await counter.refund(key);
        await counter.refund(key);
        expect((await counter.get(key))?.consumed ?? 0).toBe(0);
        expect((await counter.hit(key)).consumed).toBe(1);
        await counter.refund(unique('never-hit'));
      });

      it('keeps separate keys and separate limiter names apart', async () => {
        const name = unique('limit');
        const a = limiter(name);
        const b = limiter(unique('limit'));
        const key = unique('key');
        const otherKey = unique('key');

        await a.hit(key);
        await a.hit(key);
        await a.hit(otherKey);
        await b.hit(key);

        expect((await a.get(key))?.consumed).toBe(2);
        expect((await a.get(otherKey))?.consumed).toBe(1);
        expect((await b.get(key))?.consumed).toBe(1);
        expect(await b.get(otherKey)).toBeNull();

        await a.reset(key);
        expect((await b.get(key))?.consumed).toBe(1);
      });

      it('keeps the count in the backend: a second limiter with the same name sees it', async () => {
        const name = unique('limit');
        const key = unique('key');
        await limiter(name).hit(key);
        await limiter(name).hit(key);

        expect((await limiter(name).get(key))?.consumed).toBe(2);
        expect((await limiter(name).hit(key)).consumed).toBe(3);
      });

      it('starts a new window once the old one has passed', async () => {
        const counter = store.rateLimits.createLimiter({ name: unique('limit'), windowMs: 1000 });
        const key = unique('key');
        await counter.hit(key);
        expect((await counter.hit(key)).consumed).toBe(2);

        await new Promise((resolve) => setTimeout(resolve, 1100));

        expect(await counter.get(key)).toBeNull();
        expect((await counter.hit(key)).consumed).toBe(1);
      });

      it('refuses a limiter name that is not lower-case kebab-case', () => {
        expect(() => store.rateLimits.createLimiter({ name: 'Login Account', windowMs })).toThrow(
          TypeError,
        );
      });
    });
  });
}
