import { expect, it } from 'vitest';
import { MINUTE } from '../fixtures.js';
import { createdSession, createdUser } from '../under-test.js';
import { answers, type FaultRun } from './run.js';

/**
 * Restarted: the same store, never recreated, works again, and keeps or forgets the
 * old records as the harness says it is `durable`. Registered only for a harness that
 * says `canRestart`.
 */
export function restartedCase(run: FaultRun): void {
  const { harness } = run;
  it(
    harness.durable
      ? 'a restarted backend: the same store object works again, with what was written before the kill'
      : 'a restarted backend: the same store object works again; what the backend lost is unknown, never let through',
    { timeout: 30_000 },
    async () => {
      const { backend, store } = run.up();
      if (!backend.restart) throw new Error('canRestart without restart');
      const restartedAt = performance.now();
      await backend.restart();
      await expect
        .poll(() => answers(store), { timeout: harness.restartWithinMs ?? 20_000 })
        .toBe(true);
      run.figures.push(
        `restart → store usable ${Math.round(performance.now() - restartedAt)} ms later`,
      );

      const { user, session } = run.records;
      if (harness.durable) {
        // Committed before the kill, so still there.
        expect(await store.sessions.getSession(session.id)).toEqual(session);
        expect(await store.users.getUserByEmail(user.email)).toEqual(user);
        const more = await createdSession(store, user.id);
        expect(await store.sessions.getSession(more.id)).toEqual(more);
      } else {
        // A backend that came back empty: the old session is simply unknown.
        expect(await store.sessions.getSession(session.id)).toBeNull();
        expect(await store.users.getUserByEmail(user.email)).toBeNull();
      }
      const again = await createdUser(store);
      const fresh = await createdSession(store, again.id);
      expect(await store.sessions.getSession(fresh.id)).toEqual(fresh);
      expect(await store.users.getUserByEmail(again.email)).toEqual(again);
      const limiter = store.rateLimits.createLimiter({ name: 'fault', windowMs: MINUTE });
      expect((await limiter.hit(again.email)).consumed).toBe(1);
    },
  );
}
