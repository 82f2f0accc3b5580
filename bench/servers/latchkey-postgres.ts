// Latchkey session mode on PostgreSQL, in a schema of this process only (dropped on shutdown).
import { benchPostgresStore, serveLatchkey } from '../lib/latchkey-app.js';

const { store } = await benchPostgresStore(`latchkey_bench_${process.pid}`);
await serveLatchkey(store);
