// Latchkey session mode on SQLite in Express 5, mounted as packages/adapters/README.md
// shows: the security headers on every answer, /auth/* to the routes, GET /me behind
// requireAuth. Judged against express-bare.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { authOf, latchkeyExpress } from '../../packages/adapters/src/express.js';
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

const express = (await peer('express')).default;
const { routes, requireAuth, securityHeaders } = latchkeyExpress(latchkey);
const app = express();
app.use(securityHeaders);
app.use('/auth', routes);
app.get('/me', requireAuth, (_req: any, res: any) => {
  res.json({ id: authOf(res).userId });
});

const server: Server = createServer(app);
await ready(server);
