/**
 * `@latchkey/core/store-kit`: what a store author needs (the store interface, the
 * fail-closed wrapper, the rate-limiter-flexible bridge, the near-cache and its
 * invalidation channel). An app that only uses Latchkey imports `@latchkey/core`.
 */
export type {
  LatchkeyStore,
  Limiter,
  LimiterOptions,
  LimiterState,
  RateLimitStore,
  RecordStore,
  SessionRecord,
  SessionRotation,
  SessionStore,
  StoredRecord,
  UserPatch,
  UserRecord,
  UserStore,
} from './stores/types.js';
export { failClosed } from './stores/guard.js';
export {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
} from './stores/rate-limiter-flexible.js';
export {
  createLocalInvalidationBus,
  withNearCache,
  type Invalidation,
  type InvalidationChannel,
  type NearCacheOptions,
  type NearCacheStats,
} from './stores/near-cache.js';
