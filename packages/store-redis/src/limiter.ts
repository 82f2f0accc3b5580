import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type RateLimitStore,
} from '@latchkey/core/store-kit';

/** Rate-limit counters under `<prefix>rl:` (rate-limiter-flexible's Redis limiter). */
export function createRateLimitStore(client: Redis, prefix: string): RateLimitStore {
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
