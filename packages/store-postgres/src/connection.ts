import { Client, Pool } from 'pg';
import { applyMigrations, checkedSchemaName } from './migrations.js';
import { MIGRATIONS } from './schema.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Schema of Latchkey's tables, created when missing. Lower-case letters, digits, `_`. @default 'public' */
  schema?: string;
  /** Most connections the pool opens. @default 10 */
  max?: number;
  /** The server cancels a statement running longer; the client gives up 1 s later. @default 2000 */
  statementTimeoutMs?: number;
  /** Limit for opening a connection (or waiting for a free one in the pool). @default 2000 */
  connectTimeoutMs?: number;
  /** Limit for each start-up migration statement, including waiting for the migration lock. @default 60000 */
  migrationTimeoutMs?: number;
  /** Rows the expiry sweep deletes per statement, so it never holds many locks. @default 1000 */
  sweepBatchSize?: number;
  /** Errors of idle connections (a restarted server, a dropped network). @default ignored */
  onError?: (error: Error) => void;
}

/** The options checked, with their defaults. */
export type PostgresSettings = Required<Omit<PostgresStoreOptions, 'connectionString'>> &
  Pick<PostgresStoreOptions, 'connectionString'>;

/** `value`, or a TypeError naming `name` unless it is a positive integer. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Checks the options (throws a TypeError for a bad one) and fills in the defaults. */
export function postgresSettings(options: PostgresStoreOptions): PostgresSettings {
  return {
    connectionString: options.connectionString,
    schema: checkedSchemaName(options.schema ?? 'public'),
    statementTimeoutMs: positiveInteger('statementTimeoutMs', options.statementTimeoutMs ?? 2000),
    connectTimeoutMs: positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 2000),
    migrationTimeoutMs: positiveInteger('migrationTimeoutMs', options.migrationTimeoutMs ?? 60_000),
    sweepBatchSize: positiveInteger('sweepBatchSize', options.sweepBatchSize ?? 1000),
    max: positiveInteger('max', options.max ?? 10),
    onError: options.onError ?? (() => undefined),
  };
}

/** Migrates Latchkey's schema on a connection of its own, with a longer limit than ordinary statements. */
export async function migrate(settings: PostgresSettings): Promise<void> {
  const migrator = new Client({
    connectionString: settings.connectionString,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.migrationTimeoutMs,
    query_timeout: settings.migrationTimeoutMs + 1000,
    application_name: 'latchkey-migrate',
  });
  migrator.on('error', settings.onError);
  try {
    await migrator.connect();
    await applyMigrations(migrator, settings.schema, 'latchkey', MIGRATIONS);
  } finally {
    await migrator.end().catch(() => undefined);
  }
}

/** The store's pool: every statement limited on the server and on the client. */
export function createPool(settings: PostgresSettings): Pool {
  const { statementTimeoutMs } = settings;
  const pool = new Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // The client-side limit: for a server (or network) that stopped answering altogether.
    query_timeout: statementTimeoutMs + 1000,
    lock_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 5,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'latchkey',
  });
  // An idle client's error (the server restarted) is emitted on the pool; unhandled,
  // it would crash the process.
  pool.on('error', settings.onError);
  return pool;
}
