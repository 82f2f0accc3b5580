// Latchkey session mode on Redis (the shared server, keys under a private prefix).
import { serveLatchkey } from '../lib/latchkey-app.js';
import { benchRedisStore } from '../lib/latchkey-redis.js';

await serveLatchkey(await benchRedisStore('latchkey-redis'));
