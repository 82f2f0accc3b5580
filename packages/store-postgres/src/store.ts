import type { Pool } from 'pg';
import type { LatchkeyStore } from '@latchkey/core/store-kit';
import { createPool, migrate, postgresSettings, type PostgresStoreOptions } from './connection.js';
import { createRateLimitStore } from './limiter.js';
import { createQueries } from './queries.js';
import { createRecordStore } from './records.js';
import { createSessionStore } from './sessions.js';
import { createUserStore } from './users.js';

/** A LatchkeyStore in PostgreSQL, plus the pool for the app's own tables. */
export interface PostgresStore extends LatchkeyStore {
  /** The store's pool: an app may keep its own tables in the same database (see `applyMigrations`). */
  readonly pool: Pool;
  /** The schema holding Latchkey's tables. */
  readonly schema: string;
}

/**
 * Users, sessions and rate-limit counters in PostgreSQL, for app servers that share a
 * database. Resolves once the connection works and the schema is migrated (under an
 * advisory lock, so many servers may start at once); rejects, closing its pool, when
 * either fails. Rotation is one compare-and-set `UPDATE … WHERE id = $1 AND
 * secret_hash = $2`: of two concurrent rotations the second waits for the first's row
 * lock, re-checks the hash and matches nothing. The expiry sweep deletes in batches so
 * it never holds long locks. Every statement has a server-side and a client-side time
 * limit, so a call fails rather than hangs while the server is unreachable; the pool
 * reconnects by itself, and errors of idle connections go to `onError` instead of
 * crashing the process.
 *
 * @param options.connectionString PostgreSQL URL.
 * @param options.schema Schema of Latchkey's tables. @default 'public'
 * @param options.max Most pool connections. @default 10
 * @param options.statementTimeoutMs Statement time limit. @default 2000
 * @param options.connectTimeoutMs Limit for getting a connection. @default 2000
 * @param options.migrationTimeoutMs Limit for each migration statement. @default 60000
 * @param options.sweepBatchSize Rows per sweep statement. @default 1000
 * @param options.onError Receives errors of idle connections. @default ignored
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const settings = postgresSettings(options);
  await migrate(settings);
  const pool = createPool(settings);
  const { schema } = settings;
  const queries = createQueries(pool, schema);
  let closing: Promise<void> | undefined;

  return {
    name: 'postgres',
    pool,
    schema,
    users: createUserStore(queries),
    sessions: createSessionStore(queries, settings.sweepBatchSize),
    records: createRecordStore(queries),
    rateLimits: createRateLimitStore(pool, schema),
    async ping() {
      await pool.query('SELECT 1');
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
