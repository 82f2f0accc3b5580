import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { latchkeyNode } from '../../packages/adapters/src/node.js';
import {
  createLatchkey,
  type LatchkeyOptions,
  type LatchkeyStore,
} from '../../packages/core/src/index.js';
import { onShutdown, ready } from './server.js';

/**
 * Every Latchkey contender: the given store mounted in node:http exactly as the README
 * shows (`latchkeyNode`), `/auth/*` to its routes and `GET /me` behind `requireAuth`. Only the store
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

  const auth = latchkeyNode(latchkey);
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    if (auth.isAuthRoute(req)) return auth.routes(req, res);
    const session = await auth.requireAuth(req, res);
    if (session) auth.json(res, { id: session.userId }, { auth: session });
  };
  // Neither routes nor requireAuth rejects.
  const server = createServer((req, res) => void serve(req, res));
  await ready(server);
}
