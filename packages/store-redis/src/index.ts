/*
 * @latchkey/store-redis: users, sessions and rate-limit counters in Redis.
 *
 *   keys.ts        the key layout (Cluster hash tags) and redisKeys
 *   scripts.ts     the Lua scripts, one key each
 *   records.ts     users and sessions as Redis hashes
 *   connection.ts  options, the topologies (one node, Sentinel, Cluster) and the fail-closed connection
 *   users.ts       the user store
 *   sessions.ts    the session store and its per-user index
 *   limiter.ts     the rate limiter
 *   store.ts       createRedisStore, the factory
 */
export { redisKeys } from './keys.js';
export {
  redisClientOptions,
  type RedisClient,
  type RedisClusterTopology,
  type RedisNode,
  type RedisSentinelTopology,
  type RedisStoreOptions,
  type RedisTopology,
} from './connection.js';
export { createRedisStore, type RedisStore } from './store.js';
