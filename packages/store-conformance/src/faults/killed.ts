import { expect, it } from 'vitest';
import { runAll } from '../fixtures.js';
import { expectFailClosed } from './calls.js';
import { sleep, type FaultRun } from './run.js';

/**
 * Killed (SIGKILL): a call in flight (when the backend can be frozen first, so it is
 * surely unanswered) and every call for several rounds after reject within
 * `boundMs`, none resolving with data. Every harness runs it.
 */
export function killedCase(run: FaultRun): void {
  it(
    'a killed backend: the call in flight and every later call reject quickly, none resolves with data',
    { timeout: 30_000 },
    async () => {
      const { backend, store } = run.up();
      const { boundMs } = run;
      // A call in flight at the moment of the kill: the backend is frozen first, so
      // the call is surely unanswered when the process dies.
      let inFlight: Promise<'resolved' | 'rejected'> | undefined;
      let settledAt = 0;
      if (backend.freeze) {
        await backend.freeze();
        inFlight = store.sessions.getSession(run.records.session.id).then(
          () => 'resolved' as const,
          () => 'rejected' as const,
        );
        void inFlight.finally(() => (settledAt = performance.now()));
        await sleep(50);
      }
      const killedAt = performance.now();
      await backend.kill();
      let inFlightFigure = '';
      if (inFlight) {
        expect(await inFlight).toBe('rejected');
        expect(settledAt - killedAt).toBeLessThan(boundMs);
        inFlightFigure = `the call in flight rejected ${Math.round(settledAt - killedAt)} ms after the kill; `;
      }

      // Right after the kill, and again while the store keeps trying to reconnect.
      let slowest = 0;
      for (let round = 0; round < 4; round++) {
        slowest = Math.max(
          slowest,
          expectFailClosed(await runAll(run.everyCallGuarded(store)), boundMs),
        );
        await sleep(300);
      }
      run.figures.push(
        `killed → ${inFlightFigure}later calls reject in ≤ ${slowest.toFixed(1)} ms`,
      );
      // Connection errors reached the listener instead of crashing the process.
      if (run.harness.reportsErrors) expect(run.errors.length).toBeGreaterThan(0);
    },
  );
}
