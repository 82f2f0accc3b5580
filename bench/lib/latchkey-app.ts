import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { latchkeyNode } from '../../packages/adapters/src/node.js';
import {
  createLatchkey,
  type LatchkeyOptions,
  type LatchkeyStore,
} from '../../packages/core/src/index.js';
import { onShutdown, ready } from './server.js';

/**
 * The options every Latchkey contender runs with, on the given store (closed on
 * shutdown). Only the store, the mode and the framework differ between the rows.
 */
export function benchLatchkeyOptions(
  store: LatchkeyStore,
  options: Partial<LatchkeyOptions> = {},
): LatchkeyOptions {
  onShutdown(() => store.close());
  return {
    store,
    secrets: ['bench-secret-0123456789abcdef0123456789abcdef'],
    publicUrl: 'http://127.0.0.1',
    // The login benchmarks sign one account in thousands of times from one address.
    rateLimit: { loginLimit: 1000, addressLimit: 1_000_000 },
    // Security events (register, login) would be JSON lines on stdout; the harness reads
    // stdout for its ready line only, so they go nowhere. /me logs nothing either way.
    logger: () => undefined,
    ...options,
  };
}

/** A PostgreSQL store in a schema of this process only, dropped on shutdown. */
export async function benchPostgresStore(schema: string) {
  const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { createPostgresStore } = await import('../../packages/store-postgres/src/index.js');
  const store = await createPostgresStore({ connectionString, schema });
  // Registered before the store's close(), so it runs after it (cleanups run in reverse).
  onShutdown(async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });
  return { store, connectionString };
}

/**
 * Every Latchkey contender: the given store mounted in node:http exactly as the README
 * shows (`latchkeyNode`), `/auth/*` to its routes and `GET /me` behind `requireAuth`. Only the store
 * (and, for token mode, the mode) differs between the Latchkey rows.
 */
export async function serveLatchkey(
  store: LatchkeyStore,
  options: Partial<LatchkeyOptions> = {},
): Promise<void> {
  const latchkey = createLatchkey(benchLatchkeyOptions(store, options));

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
