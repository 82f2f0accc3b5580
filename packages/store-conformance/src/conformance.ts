import { afterEach, beforeEach, describe } from 'vitest';
import type { LatchkeyStore } from '@latchkey/core';
import { describeStoreBasics } from './behaviour/basics.js';
import { describeRateLimits } from './behaviour/rate-limits.js';
import { describeRecords } from './behaviour/records.js';
import { describeSessions } from './behaviour/sessions.js';
import { describeUsers } from './behaviour/users.js';
import type { CurrentStore, StoreUnderTest } from './under-test.js';

/**
 * The behaviour every LatchkeyStore must show, as one vitest suite. A store's test
 * file calls it with a factory; each test gets a fresh store from `makeStore` and
 * calls `cleanup` afterwards. Creates its own users before their sessions, so a
 * backend may enforce the foreign key. One file per behaviour group, in behaviour/.
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`store conformance: ${name}`, () => {
    let store: LatchkeyStore | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const current: CurrentStore = {
      get store() {
        if (!store) throw new Error('no store: makeStore did not resolve');
        return store;
      },
    };

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    describeStoreBasics(current);
    describeUsers(current);
    describeSessions(current);
    describeRateLimits(current);
    describeRecords(current);
  });
}
