// Latchkey session mode on SQLite in Fastify 5, mounted as packages/adapters/README.md
// shows: the security headers hook, the routes plugin, GET /me behind requireAuth.
// Judged against fastify-bare.
import { join } from 'node:path';
import { authOf, latchkeyFastify } from '../../packages/adapters/src/fastify.js';
import { createLatchkey } from '../../packages/core/src/index.js';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { peer } from '../lib/peer.js';
import { benchLatchkeyOptions } from '../lib/latchkey-app.js';
import { benchDir, ready } from '../lib/server.js';

const latchkey = createLatchkey(
  benchLatchkeyOptions(createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') })),
);

const Fastify = (await peer('fastify')).default;
const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
const app = Fastify();
app.addHook('onRequest', securityHeaders);
await app.register(routes);
app.get('/me', { onRequest: requireAuth }, (request: any) => ({ id: authOf(request).userId }));

await app.ready();
await ready(app.server);
