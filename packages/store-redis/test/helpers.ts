import { Redis } from 'ioredis';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../src/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test (or earlier run) uses, so tests share the server safely. */
export const testPrefix = (): string => `latchkey-test:${crypto.randomUUID()}:`;

/** Every key under `prefix`, found with SCAN (never KEYS on a shared server). */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000');
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Deletes everything under `prefix` with SCAN + DEL. */
export async function deleteUnder(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length > 0) await client.del(...keys);
}

/** A store on the shared Redis under a fresh prefix, and a cleanup that removes its keys. */
export async function sharedStore(
  options: Partial<RedisStoreOptions> = {},
): Promise<{ store: RedisStore; prefix: string; cleanup: () => Promise<void> }> {
  const prefix = testPrefix();
  const store = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix, ...options });
  return {
    store,
    prefix,
    cleanup: async () => {
      try {
        await deleteUnder(store.client, prefix);
      } finally {
        await store.close();
      }
    },
  };
}
