import { describeStoreFaults, type FaultBackend } from '@latchkey/store-conformance';
import { createPostgresStore } from '../src/index.js';
import { privatePostgresMissing, startPrivatePostgres } from './private-postgres.js';

/*
 * The shared fault suite on a PRIVATE PostgreSQL (initdb in a temp folder, a free
 * port), frozen, killed and restarted there; the shared server is never touched.
 * Without root or the binaries this file fails and says why, rather than report a
 * suite that never ran.
 */

if (privatePostgresMissing !== null) {
  throw new Error(`the PostgreSQL fault suite cannot run: ${privatePostgresMissing}`);
}

describeStoreFaults('postgres (private PostgreSQL)', {
  start: (): Promise<FaultBackend> => startPrivatePostgres(),
  open: (backend, onError) =>
    createPostgresStore({
      connectionString: backend.url,
      statementTimeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError,
    }),
  canFreeze: true,
  canRestart: true,
  durable: true,
  limits: 'statement 1000 + 1000 ms',
});
