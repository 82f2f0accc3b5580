// better-auth on SQLite (better-sqlite3 through its Kysely dialect): sign-up through its
// own handler, then `auth.api.getSession` on every /me, as its docs show for node:http.
import { createServer } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { peer } from '../lib/peer.js';
import { benchDir, onShutdown, ready, sendJson } from '../lib/server.js';

const { betterAuth } = await peer('better-auth');
const { toNodeHandler, fromNodeHeaders } = await peer('better-auth/node');
const { getMigrations } = await peer('better-auth/db/migration');

const db = new Database(join(benchDir(), 'better-auth.sqlite'));
onShutdown(() => {
  db.close();
});

/** Filled in once the port is known (below). */
const app: { auth?: any; handler?: (req: unknown, res: unknown) => Promise<void> } = {};

const server = createServer((req, res) => {
  if (req.url?.startsWith('/api/auth/')) {
    void app.handler?.(req, res);
    return;
  }
  if (req.method !== 'GET' || req.url !== '/me') {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  app.auth.api
    .getSession({ headers: fromNodeHeaders(req.headers) })
    .then((session: any) => {
      if (!session) sendJson(res, 401, { error: 'unauthenticated' });
      else sendJson(res, 200, { id: session.user.id });
    })
    .catch((error: unknown) => {
      console.error(error);
      sendJson(res, 500, { error: 'internal_error' });
    });
});
// better-auth wants its base URL, which holds the port: listen first, then build it.
const port = await ready(server);
const options = {
  database: db,
  baseURL: `http://127.0.0.1:${port}`,
  secret: 'bench-secret-0123456789abcdef0123456789abcdef',
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
app.auth = betterAuth(options);
app.handler = toNodeHandler(app.auth);
