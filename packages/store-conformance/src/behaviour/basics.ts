import { describe, expect, it } from 'vitest';
import type { CurrentStore } from '../under-test.js';

/** What every store is: named, and answering ping. */
export function describeStoreBasics(t: CurrentStore): void {
  describe('store', () => {
    it('has a name and answers ping', async () => {
      expect(t.store.name).toMatch(/^[a-z][a-z0-9-]*$/);
      await expect(t.store.ping()).resolves.toBeUndefined();
    });
  });
}
