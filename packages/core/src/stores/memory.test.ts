import { describeStoreConformance } from '@latchkey/store-conformance';
import { createMemoryStore } from './memory.js';

describeStoreConformance('memory', () => {
  const store = createMemoryStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});
