import type { Redis } from 'ioredis';
import type { LatchkeyStore } from '@latchkey/core/store-kit';
import { connectRedis, type RedisStoreOptions } from './connection.js';
import { checkedKeyPrefix, redisKeys } from './keys.js';
import { createRateLimitStore } from './limiter.js';
import { createSessionStore } from './sessions.js';
import { createUserStore } from './users.js';

/** A LatchkeyStore in Redis, plus the client (e.g. for an invalidation channel). */
export interface RedisStore extends LatchkeyStore {
  /** The store's own connection. Don't put it in subscriber mode; duplicate() it instead. */
  readonly client: Redis;
}

/**
 * A store for many app servers sharing one Redis: users, sessions and rate-limit
 * counters. Redis expires sessions itself (each session key expires at its idle or
 * absolute expiry, whichever is first; touch and rotation move it), per-user session
 * indexes are pruned and expire with their last session, and the keys are laid out for
 * Redis Cluster (see keys.ts and sessions.ts). Rotation is one Lua compare-and-set.
 * Connects before resolving and rejects if Redis cannot be reached.
 * Afterwards it fails closed: any call made while Redis is unreachable rejects within
 * `commandTimeoutMs`, and the store recovers on its own once Redis is back. Connection
 * errors go to `onError` and never crash the process.
 *
 * @param options.url Redis URL (`redis://` or `rediss://`).
 * @param options.keyPrefix Prefix of every key. @default 'latchkey:'
 * @param options.commandTimeoutMs A command with no answer in this time rejects. @default 1000
 * @param options.connectTimeoutMs Limit for opening the connection. @default 2000
 * @param options.onError Receives connection errors. @default ignored
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const prefix = checkedKeyPrefix(options.keyPrefix ?? 'latchkey:');
  const client = await connectRedis(options);
  const keys = redisKeys(prefix);
  const sessions = createSessionStore(client, keys);
  let closing: Promise<void> | undefined;

  return {
    name: 'redis',
    client,
    users: createUserStore(client, keys, sessions),
    sessions,
    rateLimits: createRateLimitStore(client, prefix),
    async ping() {
      await client.ping();
    },
    close() {
      closing ??= client.quit().then(
        () => undefined,
        () => {
          // Redis is unreachable: there is nothing to say goodbye to.
          client.disconnect();
        },
      );
      return closing;
    },
  };
}
