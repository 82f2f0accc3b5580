import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { applyMigrations } from './migrations.js';
import { MIGRATIONS } from './schema.js';

export type SqliteStoreOptions = ({ filename: string } | { database: Database }) & {
  busyTimeoutMs?: number;
  exclusive?: boolean;
  cacheSizeMiB?: number;
  memoryCache?: false | { maxEntries?: number; maxAgeMs?: number };
};

const isBusy = (error: unknown): boolean =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');

function openFile(filename: string): Database {
  if (filename !== ':memory:' && filename !== '') mkdirSync(dirname(filename), { recursive: true });
  return new BetterSqlite3(filename);
}

/**
 * Checks the options, opens the connection (or takes the given one), sets it up (busy
 * timeout, exclusive lock, WAL, `synchronous = FULL`, foreign keys, page cache) and
 * migrates Latchkey's schema. On a failure the connection is closed; a file another
 * connection holds gets an error that says so. See createSqliteStore for the options.
 */
export function openDatabase(options: SqliteStoreOptions): { db: Database; exclusive: boolean } {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  const exclusive = options.exclusive ?? true;
  if (options.memoryCache && !exclusive) {
    throw new TypeError('memoryCache needs exclusive: another process could change rows under it');
  }
  const cacheSizeMiB = options.cacheSizeMiB ?? 64;
  if (!Number.isSafeInteger(cacheSizeMiB) || cacheSizeMiB < 1) {
    throw new TypeError(`cacheSizeMiB must be a positive integer, got ${cacheSizeMiB}`);
  }
  const db = 'database' in options ? options.database : openFile(options.filename);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before the first access in WAL mode, so SQLite keeps the WAL index in memory
    // and never maps the shared-memory file other processes would need.
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${-cacheSizeMiB * 1024}`);
    applyMigrations(db, 'latchkey', MIGRATIONS);
  } catch (error) {
    db.close();
    if (isBusy(error)) {
      throw new Error(
        `SQLite file ${db.name} is in use by another process or connection` +
          (exclusive ? ' (the store holds it exclusively; pass exclusive: false to share it)' : ''),
        { cause: error },
      );
    }
    throw error;
  }
  return { db, exclusive };
}
