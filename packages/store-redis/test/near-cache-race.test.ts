import { describeNearCacheRaces } from '@latchkey/store-conformance';
import { Redis } from 'ioredis';
import { createRedisStore } from '../src/index.js';
import { createRedisInvalidationChannel } from '../src/invalidation.js';
import { deleteUnder, REDIS_URL, testPrefix } from './helpers.js';

/*
 * Two app servers in one process, each a near-cache over its own Redis store
 * connection and its own invalidation channel, all on the shared Redis under a fresh
 * key prefix and a fresh channel name.
 */

async function server(prefix: string, channelUrl = REDIS_URL) {
  const store = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix });
  const channel = createRedisInvalidationChannel({ url: channelUrl, channel: prefix });
  return { store, channel };
}

describeNearCacheRaces({
  name: 'Redis',
  channelUrl: REDIS_URL,
  // ioredis, publishing on a connection that has gone away.
  publishError: "Stream isn't writeable and enableOfflineQueue options is false",
  async twoServers(channelUrlOfA = REDIS_URL) {
    const prefix = testPrefix();
    const a = await server(prefix, channelUrlOfA);
    const b = await server(prefix);
    const cleanup = async () => {
      // The servers are closed by now: the keys go through a connection of our own.
      const client = new Redis(REDIS_URL);
      try {
        await deleteUnder(client, prefix);
      } finally {
        client.disconnect();
      }
    };
    return { a, b, cleanup };
  },
});
