// Latchkey session mode on PostgreSQL behind the near-cache, invalidated over
// PostgreSQL LISTEN/NOTIFY exactly as in a PostgreSQL-only many-server deployment (no
// Redis). Schema and channel are private to this process; the schema is dropped on shutdown.
import { withNearCache } from '../../packages/core/src/store-kit.js';
import { createPostgresStore } from '../../packages/store-postgres/src/index.js';
import { createPostgresInvalidationChannel } from '../../packages/store-postgres/src/invalidation.js';
import { serveLatchkey } from '../lib/latchkey-app.js';
import { onShutdown } from '../lib/server.js';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `latchkey_bench_nc_${process.pid}`;
const store = await createPostgresStore({ connectionString, schema });
// Registered before serveLatchkey's close(), so it runs after it (cleanups run in reverse).
onShutdown(async () => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});
const channel = createPostgresInvalidationChannel({ connectionString, channel: schema });
await serveLatchkey(withNearCache(store, channel, { maxAgeMs: 30_000 }));
