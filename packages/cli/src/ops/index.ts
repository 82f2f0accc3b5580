/*
 * @latchkey/cli/metrics: Prometheus metrics for a Latchkey server (the reference app
 * and any other Node app): request, security-event, store, near-cache and hashing
 * metrics, and the loopback-only /metrics listener. Names: docs/OPERATIONS.md.
 */
export {
  createLatchkeyMetrics,
  LATCHKEY_ROUTES,
  routeMatcher,
  serveMetrics,
  withStoreMetrics,
  type LatchkeyMetrics,
  type LatchkeyMetricsOptions,
  type MetricsServer,
} from './metrics.js';
export { parseExposition, sampleValue, type Sample } from './exposition.js';
