// Latchkey session mode on SQLite, mounted in node:http exactly as the README shows.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { toNodeListener } from '../../packages/adapters/src/node.js';
import { createLatchkey } from '../../packages/core/src/index.js';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { benchDir, onShutdown, ready } from '../lib/server.js';

const store = createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') });
onShutdown(() => store.close());

const latchkey = createLatchkey({
  store,
  secrets: ['bench-secret-0123456789abcdef0123456789abcdef'],
  publicUrl: 'http://127.0.0.1',
  // The login benchmarks sign one account in thousands of times from one address.
  rateLimit: { loginLimit: 1000, addressLimit: 1_000_000 },
  // Security events (register, login) would be JSON lines on stdout; the harness reads
  // stdout for its ready line only, so they go nowhere. /me logs nothing either way.
  logger: () => undefined,
});

const server = createServer(
  toNodeListener(async (request, connection) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/auth/')) return latchkey.handle(request, connection);
    const auth = await latchkey.authenticate(request, connection);
    if (!auth.ok) return latchkey.errorResponse(auth.error);
    const response = latchkey.secure(Response.json({ id: auth.userId }));
    for (const cookie of auth.setCookies) response.headers.append('Set-Cookie', cookie);
    return response;
  }),
);
await ready(server);
