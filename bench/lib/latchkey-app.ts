import { createServer } from 'node:http';
import { toNodeListener } from '../../packages/adapters/src/node.js';
import {
  createLatchkey,
  type LatchkeyOptions,
  type LatchkeyStore,
} from '../../packages/core/src/index.js';
import { onShutdown, ready } from './server.js';

/**
 * Every Latchkey contender: the given store mounted in node:http exactly as the README
 * shows, `/auth/*` to the handler and `GET /me` behind `authenticate()`. Only the store
 * (and, for token mode, the mode) differs between the Latchkey rows.
 */
export async function serveLatchkey(
  store: LatchkeyStore,
  options: Partial<LatchkeyOptions> = {},
): Promise<void> {
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
    ...options,
  });

  const server = createServer(
    toNodeListener(async (request, connection) => {
      const url = new URL(request.url);
      if (url.pathname.startsWith('/auth/')) return latchkey.handle(request, connection);
      const auth = await latchkey.authenticate(request, connection);
      if (!auth.ok) return latchkey.errorResponse(auth.error);
      return latchkey.json({ id: auth.userId }, { setCookies: auth.setCookies });
    }),
  );
  await ready(server);
}
