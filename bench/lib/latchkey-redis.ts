import { createRedisStore, type RedisStore } from '../../packages/store-redis/src/index.js';
import { onShutdown, redisPrefix, redisUrl } from './server.js';

/** A Redis store under a key prefix of this process only; its keys are deleted on shutdown. */
export async function benchRedisStore(name: string): Promise<RedisStore> {
  const keyPrefix = redisPrefix(name);
  const store = await createRedisStore({ url: redisUrl(), keyPrefix });
  onShutdown(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await store.client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await store.client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  });
  return store;
}
