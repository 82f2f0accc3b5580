// Latchkey session mode on SQLite in Express 5, mounted as packages/adapters/README.md
// shows: the security headers on every answer, /auth/* to the routes, GET /me behind
// requireAuth. Judged against express-bare.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { authOf, latchkeyExpress } from '../../packages/adapters/src/express.js';
import { createLatchkey } from '../../packages/core/src/index.js';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { peer } from '../lib/peer.js';
import { benchLatchkeyOptions } from '../lib/latchkey-app.js';
import { benchDir, ready } from '../lib/server.js';

const latchkey = createLatchkey(
  benchLatchkeyOptions(createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') })),
);

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
