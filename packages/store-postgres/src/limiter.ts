import type { Pool } from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type RateLimitStore,
} from '@latchkey/core/store-kit';
import { RATE_LIMIT_TABLE } from './schema.js';

/** Rate-limit counters in the migrated `latchkey_rate_limits` (rate-limiter-flexible). */
export function createRateLimitStore(pool: Pool, schema: string): RateLimitStore {
  return {
    createLimiter: (limiter) =>
      fromRateLimiterFlexible(
        new RateLimiterPostgres({
          ...rateLimiterFlexibleOptions(limiter),
          storeClient: pool,
          storeType: 'pool',
          schemaName: schema,
          tableName: RATE_LIMIT_TABLE,
          // The migration made the table; left to itself the library creates it
          // asynchronously and rejects any hit that arrives before that finishes.
          tableCreated: true,
          // Its own sweep is a timer that would outlive close(); deleteExpiredSessions sweeps.
          clearExpiredByTimeout: false,
        }),
      ),
  };
}
