import { RateLimiterRedis } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type RateLimitStore,
} from '@latchkey/core/store-kit';
import type { RedisClient } from './connection.js';

/**
 * Rate-limit counters under `<prefix>rl:` (rate-limiter-flexible's Redis limiter: one
 * key per counter, one single-key script, so a Cluster spreads the counters over its
 * slots).
 */
export function createRateLimitStore(client: RedisClient, prefix: string): RateLimitStore {
  return {
    createLimiter(limiter) {
      const base = rateLimiterFlexibleOptions(limiter);
      return fromRateLimiterFlexible(
        new RateLimiterRedis({
          ...base,
          keyPrefix: `${prefix}rl:${base.keyPrefix}`,
          storeClient: client,
          useRedisPackage: false,
          // Fail at once while disconnected rather than waiting for a timeout.
          rejectIfRedisNotReady: true,
        }),
      );
    },
  };
}
