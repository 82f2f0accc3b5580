import { expect, it } from 'vitest';
import { runAll } from '../fixtures.js';
import { createdSession } from '../under-test.js';
import { expectFailClosed } from './calls.js';
import { answers, type FaultRun } from './run.js';

/**
 * Frozen (SIGSTOP): every call rejects within `boundMs`, a 503 through the guard, and
 * the same store answers again once the backend resumes, with the user and session
 * unchanged. Registered only for a harness that says `canFreeze`.
 */
export function frozenCase(run: FaultRun): void {
  it(
    'a frozen backend (SIGSTOP): every call rejects within the bound, a 503 through the guard; the same store recovers when it resumes',
    { timeout: 30_000 },
    async () => {
      const { backend, store } = run.up();
      if (!backend.freeze || !backend.resume) throw new Error('canFreeze without freeze/resume');
      await backend.freeze();
      try {
        const slowest = expectFailClosed(await runAll(run.everyCallGuarded(store)), run.boundMs);
        run.figures.push(`frozen → rejection in ≤ ${Math.round(slowest)} ms${run.limits}`);
      } finally {
        await backend.resume();
      }
      // The same store object answers again once the backend does.
      await expect
        .poll(() => answers(store), { timeout: run.harness.recoverWithinMs ?? 10_000 })
        .toBe(true);
      // Calls that timed out may have run since the backend woke up; none of them
      // touched these two.
      const { records } = run;
      expect(await store.sessions.getSession(records.session.id)).toEqual(records.session);
      expect(await store.users.getUserById(records.user.id)).toEqual(records.user);
      // The spare may have been rotated or deleted: a new one for the next test.
      records.spare = await createdSession(store, records.user.id);
    },
  );
}
