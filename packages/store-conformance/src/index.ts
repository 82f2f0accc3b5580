/*
 * @latchkey/store-conformance: the suites every Latchkey store passes.
 *
 *   conformance.ts  describeStoreConformance: the behaviour suite, one file per group in behaviour/
 *   faults/         describeStoreFaults: the fail-closed suite on a private backend, one file per case
 *   under-test.ts   the store under test and the records a test creates in it
 *   fixtures.ts     records, unique names and timing helpers
 *   processes.ts    spawning, freezing and killing a private backend by process id
 *   proxy.ts        a TCP proxy a test can cut, restore, freeze and thaw
 *   near-cache-races.ts  describeNearCacheRaces: two app servers' near-caches over one backend
 */
export * from './fixtures.js';
export * from './processes.js';
export { describeStoreConformance } from './conformance.js';
export type { StoreUnderTest } from './under-test.js';
export type { FaultBackend, StoreFaultHarness } from './faults/harness.js';
export { everyStoreCall, expectFailClosed, type FaultRecords } from './faults/calls.js';
export { describeStoreFaults } from './faults/suite.js';
export { tcpProxy, type TcpProxy } from './proxy.js';
export {
  describeNearCacheRaces,
  type NearCacheRaceBackend,
  type NearCacheRaceServer,
} from './near-cache-races.js';
