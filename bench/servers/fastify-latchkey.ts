// Latchkey session mode on SQLite in Fastify 5, mounted as packages/adapters/README.md
// shows: the security headers hook, the routes plugin, GET /me behind requireAuth.
// Judged against fastify-bare.
import { join } from 'node:path';
import { authOf, latchkeyFastify } from '../../packages/adapters/src/fastify.js';
import { createLatchkey } from '../../packages/core/src/index.js';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { peer } from '../lib/peer.js';
import { benchDir, onShutdown, ready } from '../lib/server.js';

const store = createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') });
onShutdown(() => store.close());
const latchkey = createLatchkey({
  store,
  secrets: ['bench-secret-0123456789abcdef0123456789abcdef'],
  publicUrl: 'http://127.0.0.1',
  // As in lib/latchkey-app.ts: the harness signs one account in from one address.
  rateLimit: { loginLimit: 1000, addressLimit: 1_000_000 },
  logger: () => undefined,
});

const Fastify = (await peer('fastify')).default;
const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
const app = Fastify();
app.addHook('onRequest', securityHeaders);
await app.register(routes);
app.get('/me', { onRequest: requireAuth }, (request: any) => ({ id: authOf(request).userId }));

await app.ready();
await ready(app.server);
