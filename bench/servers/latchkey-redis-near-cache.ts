// Latchkey session mode on Redis behind the near-cache, invalidated over Redis pub/sub
// exactly as in a many-server deployment (the channel is private to this process).
import { withNearCache } from '../../packages/core/src/store-kit.js';
import { createRedisInvalidationChannel } from '../../packages/store-redis/src/invalidation.js';
import { serveLatchkey } from '../lib/latchkey-app.js';
import { benchRedisStore } from '../lib/latchkey-redis.js';
import { redisPrefix, redisUrl } from '../lib/server.js';

const store = await benchRedisStore('latchkey-near-cache');
const channel = createRedisInvalidationChannel({
  url: redisUrl(),
  channel: `${redisPrefix('latchkey-near-cache')}invalidate`,
});
await serveLatchkey(withNearCache(store, channel, { maxAgeMs: 30_000 }));
