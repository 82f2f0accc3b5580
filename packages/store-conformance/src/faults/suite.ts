import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdSession, createdUser } from '../under-test.js';
import { frozenCase } from './frozen.js';
import { checkCapabilities, type StoreFaultHarness } from './harness.js';
import { killedCase } from './killed.js';
import { restartedCase } from './restarted.js';
import { FaultRun } from './run.js';

/**
 * The fail-closed guarantees every store with a backend must keep, as one vitest
 * suite on a private backend the harness starts. The tests run in order and share the
 * backend and ONE store object:
 * - it works while the backend is up;
 * - frozen (only if the harness `canFreeze`): see frozen.ts;
 * - killed: see killed.ts;
 * - restarted (only if the harness `canRestart`): see restarted.ts.
 * A case the backend cannot have is not registered at all, so a run reports only what
 * ran. Whether the suite runs at all (the backend's binaries are there, say) is the
 * caller's choice: it calls this or not. Store-specific cases stay in the store's own
 * test file beside this call.
 */
export function describeStoreFaults(name: string, harness: StoreFaultHarness): void {
  describe(`store faults: ${name}`, () => {
    const run = new FaultRun(harness);

    beforeAll(async () => {
      run.backend = await harness.start();
      checkCapabilities(harness, run.backend);
      run.store = await harness.open(run.backend, (error) => run.errors.push(error));
    }, 60_000);

    afterAll(async () => {
      try {
        await run.store?.close();
      } finally {
        await run.backend?.stop();
      }
      if (run.figures.length > 0) console.info(`store faults, ${name}: ${run.figures.join('; ')}`);
    }, 60_000);

    it('works while the backend is up', { timeout: 30_000 }, async () => {
      const { store } = run.up();
      const user = await createdUser(store);
      const session = await createdSession(store, user.id);
      run.records = { user, session, spare: await createdSession(store, user.id) };
      expect(await store.sessions.getSession(session.id)).toEqual(session);
    });

    if (harness.canFreeze) frozenCase(run);
    killedCase(run);
    if (harness.canRestart) restartedCase(run);
  });
}
