// The limit on Fastify 5: the framework Latchkey's Fastify adapter mounts on, no authentication.
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready } from '../lib/server.js';

const Fastify = (await peer('fastify')).default;
const app = Fastify();
app.get('/me', () => ({ id: BENCH_USER_ID }));

// Fastify's own server, started through ready() like every contender's.
await app.ready();
await ready(app.server);
