// Latchkey session mode on SQLite, mounted in node:http exactly as the README shows.
import { join } from 'node:path';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { serveLatchkey } from '../lib/latchkey-app.js';
import { benchDir } from '../lib/server.js';

await serveLatchkey(createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') }));
