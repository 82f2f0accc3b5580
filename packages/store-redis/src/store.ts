import type { LatchkeyStore } from '@latchkey/core/store-kit';
import {
  connectRedis,
  pingEveryPrimary,
  type RedisClient,
  type RedisStoreOptions,
} from './connection.js';
import { createFeatureRecordStore } from './feature-records.js';
import { checkedKeyPrefix, redisKeys } from './keys.js';
import { createRateLimitStore } from './limiter.js';
import { createSessionStore } from './sessions.js';
import { createUserStore } from './users.js';

/** A LatchkeyStore in Redis, plus the client (e.g. for an invalidation channel). */
export interface RedisStore extends LatchkeyStore {
  /**
   * The store's own client: a `Redis` connection (for `url` and `sentinel`) or a
   * `Cluster` (for `cluster`). Don't put it in subscriber mode; duplicate() it instead.
   */
  readonly client: RedisClient;
}

/**
 * A store for many app servers sharing one Redis: users, sessions and rate-limit
 * counters. Redis expires sessions itself (each session key expires at its idle or
 * absolute expiry, whichever is first; touch and rotation move it), per-user session
 * indexes are pruned and expire with their last session, and the keys are laid out for
 * Redis Cluster (see keys.ts and sessions.ts). Rotation is one Lua compare-and-set.
 * Redis may be one node (`url`), a primary watched by Sentinel (`sentinel`: the store
 * follows a failover by itself) or a Cluster (`cluster`); see docs/DEPLOYMENT.md for
 * what a failover refuses and what it can lose.
 * Connects before resolving and rejects if Redis cannot be reached.
 * Afterwards it fails closed: any call made while Redis is unreachable rejects within
 * `commandTimeoutMs`, and the store recovers on its own once Redis is back. Connection
 * errors go to `onError` and never crash the process.
 *
 * @param options.url Redis URL (`redis://` or `rediss://`), for one node.
 * @param options.sentinel Sentinels and the primary's name, instead of `url`.
 * @param options.cluster Seed nodes of a Redis Cluster, instead of `url`.
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
  const records = createFeatureRecordStore(client, keys);
  let closing: Promise<void> | undefined;

  return {
    name: 'redis',
    client,
    users: createUserStore(client, keys, sessions, records),
    sessions,
    records,
    rateLimits: createRateLimitStore(client, prefix),
    async ping() {
      // Every primary: a Cluster that lost one serves only part of its keys.
      await pingEveryPrimary(client);
    },
    close() {
      // QUIT, then disconnect either way: disconnect also ends what QUIT leaves open
      // (the Sentinel failover detector's connections to the sentinels); when Redis is
      // unreachable there is nothing to say goodbye to.
      const done = () => client.disconnect();
      closing ??= client.quit().then(done, done);
      return closing;
    },
  };
}
