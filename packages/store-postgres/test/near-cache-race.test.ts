import { describeNearCacheRaces } from '@latchkey/store-conformance';
import { createPostgresStore } from '../src/index.js';
import { createPostgresInvalidationChannel } from '../src/invalidation.js';
import { DATABASE_URL, dropSchema, testSchema } from './helpers.js';

/*
 * The near-cache race tests over PostgreSQL: two app servers in one process, each a
 * near-cache over its own PostgreSQL store (its own pool) and its own LISTEN/NOTIFY
 * channel, all on the shared PostgreSQL in a fresh schema and on a fresh channel name.
 */

async function server(schema: string, channelUrl = DATABASE_URL) {
  const store = await createPostgresStore({ connectionString: DATABASE_URL, schema, max: 4 });
  const channel = createPostgresInvalidationChannel({
    connectionString: channelUrl,
    channel: schema,
  });
  return { store, channel };
}

describeNearCacheRaces({
  name: 'PostgreSQL LISTEN/NOTIFY',
  channelUrl: DATABASE_URL,
  // node-postgres, publishing on a connection that has gone away.
  publishError: 'Connection terminated unexpectedly',
  async twoServers(channelUrlOfA = DATABASE_URL) {
    const schema = testSchema();
    const a = await server(schema, channelUrlOfA);
    const b = await server(schema);
    return { a, b, cleanup: () => dropSchema(schema).then(() => undefined) };
  },
});
