// Latchkey session mode on PostgreSQL, in a schema of this process only (dropped on shutdown).
import { createPostgresStore } from '../../packages/store-postgres/src/index.js';
import { serveLatchkey } from '../lib/latchkey-app.js';
import { onShutdown } from '../lib/server.js';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `latchkey_bench_${process.pid}`;
const store = await createPostgresStore({ connectionString, schema });
// Registered before serveLatchkey's close(), so it runs after it (cleanups run in reverse).
onShutdown(async () => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});
await serveLatchkey(store);
