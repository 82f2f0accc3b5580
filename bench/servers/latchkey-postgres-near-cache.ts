// Latchkey session mode on PostgreSQL behind the near-cache, invalidated over
// PostgreSQL LISTEN/NOTIFY exactly as in a PostgreSQL-only many-server deployment (no
// Redis). Schema and channel are private to this process; the schema is dropped on shutdown.
import { withNearCache } from '../../packages/core/src/store-kit.js';
import { createPostgresInvalidationChannel } from '../../packages/store-postgres/src/invalidation.js';
import { benchPostgresStore, serveLatchkey } from '../lib/latchkey-app.js';

const schema = `latchkey_bench_nc_${process.pid}`;
const { store, connectionString } = await benchPostgresStore(schema);
const channel = createPostgresInvalidationChannel({ connectionString, channel: schema });
await serveLatchkey(withNearCache(store, channel, { maxAgeMs: 30_000 }));
