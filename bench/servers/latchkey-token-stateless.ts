// Latchkey token mode on SQLite with token.statelessAccess: /me verifies the EdDSA
// access JWT alone, no session-liveness read: the row that prices the default check.
import { join } from 'node:path';
import { generateSigningJwk } from '../../packages/core/src/index.js';
import { createSqliteStore } from '../../packages/store-sqlite/src/index.js';
import { serveLatchkey } from '../lib/latchkey-app.js';
import { benchDir } from '../lib/server.js';

await serveLatchkey(createSqliteStore({ filename: join(benchDir(), 'latchkey.sqlite') }), {
  mode: 'token',
  // A full run outlives the default 10 minutes; one hour is the most allowed.
  token: { keys: [await generateSigningJwk('EdDSA')], accessTtl: '1h', statelessAccess: true },
});
