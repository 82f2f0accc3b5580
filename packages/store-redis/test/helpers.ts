import { Cluster } from 'ioredis';
import {
  createRedisStore,
  type RedisClient,
  type RedisStore,
  type RedisTopology,
} from '../src/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test (or earlier run) uses, so tests share the server safely. */
export const testPrefix = (): string => `latchkey-test:${crypto.randomUUID()}:`;

/**
 * Every key under `prefix`, found with SCAN (never KEYS on a shared server); in a
 * Cluster on every primary, since SCAN sees one node's keys.
 */
export async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000');
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Deletes everything under `prefix` with SCAN + DEL (one key per DEL: Cluster slots differ). */
export async function deleteUnder(client: RedisClient, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  await Promise.all(keys.map((key) => client.del(key)));
}

/** Store options other than where Redis is. */
export interface TestStoreOptions {
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  onError?: (error: Error) => void;
}

/**
 * A store on `topology` (the shared Redis by default) under a fresh prefix, and a
 * cleanup that removes its keys.
 */
export async function sharedStore(
  options: TestStoreOptions = {},
  topology: RedisTopology = { url: REDIS_URL },
): Promise<{ store: RedisStore; prefix: string; cleanup: () => Promise<void> }> {
  const prefix = testPrefix();
  const store = await createRedisStore({ ...topology, keyPrefix: prefix, ...options });
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
