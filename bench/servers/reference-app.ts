// The reference app (apps/reference) as `npm start` serves it: Hono through
// @hono/node-server, the auth routes, the notes API and the SPA, on SQLite. Two rows
// drive it: GET /api/notes (the app's own authenticated route) and GET /auth/session.
import { join } from 'node:path';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { createReferenceApp } from '../../apps/reference/src/app.js';
import { listen } from '../../apps/reference/src/listen.js';
import { createSqliteNotes } from '../../apps/reference/src/notes.js';
import { benchLatchkeyOptions } from '../lib/latchkey-app.js';
import { benchDir, onShutdown } from '../lib/server.js';

const store = createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') });
const { app, latchkey } = createReferenceApp({
  latchkey: benchLatchkeyOptions(store),
  notes: createSqliteNotes(store.db),
});
const server = await listen(app, latchkey, { port: 0, host: '127.0.0.1' });
onShutdown(() => server.close());
process.stdout.write(`BENCH_READY ${server.port}\n`);
