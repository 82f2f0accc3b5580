import { failClosed, type LatchkeyStore } from '@latchkey/core/store-kit';
import { everyStoreCall, type FaultRecords } from './calls.js';
import type { FaultBackend, StoreFaultHarness } from './harness.js';

/**
 * What the fault cases share, in the order they run: the harness, the ONE backend and
 * store (set before the first case), the records the first case writes, the errors
 * the store reported and the figures printed after the suite.
 */
export class FaultRun {
  backend: FaultBackend | undefined;
  store: LatchkeyStore | undefined;
  private made: FaultRecords | undefined;
  readonly errors: Error[] = [];
  readonly figures: string[] = [];
  readonly boundMs: number;
  /** What bounds a call, for the figures: ` (command timeout 1000 ms)`, or nothing. */
  readonly limits: string;

  constructor(readonly harness: StoreFaultHarness) {
    this.boundMs = harness.boundMs ?? 3000;
    this.limits = harness.limits === undefined ? '' : ` (${harness.limits})`;
  }

  /** Both set in beforeAll; a test that runs at all has them. */
  up(): { backend: FaultBackend; store: LatchkeyStore } {
    const { backend, store } = this;
    if (!backend || !store) throw new Error('the backend or the store did not start');
    return { backend, store };
  }

  /** The records the first case wrote (a case that changes `spare` replaces it in place). */
  get records(): FaultRecords {
    if (!this.made) throw new Error('the first case did not write its records');
    return this.made;
  }

  set records(records: FaultRecords) {
    this.made = records;
  }

  /** Every store call on the records, through the core's fail-closed guard. */
  everyCallGuarded(store: LatchkeyStore): Record<string, () => Promise<unknown>> {
    return failClosed(everyStoreCall(store, this.records), 'fault-test');
  }
}

/** Whether the store answers ping now. */
export const answers = (store: LatchkeyStore): Promise<boolean> =>
  store.ping().then(
    () => true,
    () => false,
  );

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
