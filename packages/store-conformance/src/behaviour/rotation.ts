import { describe, expect, it } from 'vitest';
import { MINUTE, unique } from '../fixtures.js';
import { createdSession, createdUser, type CurrentStore } from '../under-test.js';

/** rotateSecret, the compare-and-set: one winner, a spent hash never rotates again. */
export function describeRotation(t: CurrentStore): void {
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
      const user = await createdUser(t.store);
      const session = await createdSession(t.store, user.id);

      const applied = await t.store.sessions.rotateSecret(
        session.id,
        unique('wrong'),
        rotation(unique('next')),
      );

      expect(applied).toBe(false);
      expect(await t.store.sessions.getSession(session.id)).toEqual(session);
    });

    it('applies the rotation when the expectation holds, then only for the new hash', async () => {
      const user = await createdUser(t.store);
      const session = await createdSession(t.store, user.id);
      const next = rotation(unique('next'));

      expect(await t.store.sessions.rotateSecret(session.id, session.secretHash, next)).toBe(true);
      expect(await t.store.sessions.getSession(session.id)).toEqual({ ...session, ...next });

      // The old hash is spent: replaying it must not rotate again.
      const replay = rotation(unique('replay'));
      expect(await t.store.sessions.rotateSecret(session.id, session.secretHash, replay)).toBe(
        false,
      );
      expect(await t.store.sessions.getSession(session.id)).toEqual({ ...session, ...next });
    });

    it('returns false for an unknown session', async () => {
      const id = unique('session');
      expect(await t.store.sessions.rotateSecret(id, unique('hash'), rotation('x'))).toBe(false);
      expect(await t.store.sessions.getSession(id)).toBeNull();
    });

    it('lets exactly one of 20 concurrent rotations with the same expectation win', async () => {
      const user = await createdUser(t.store);
      const session = await createdSession(t.store, user.id);
      const attempts = Array.from({ length: 20 }, (_, i) => rotation(`${unique('next')}-${i}`));

      const results = await Promise.all(
        attempts.map((next) => t.store.sessions.rotateSecret(session.id, session.secretHash, next)),
      );

      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = attempts[results.indexOf(true)];
      expect(await t.store.sessions.getSession(session.id)).toEqual({ ...session, ...winner });
    });
  });
}
