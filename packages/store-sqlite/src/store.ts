import type { Database } from 'better-sqlite3';
import {
  createLocalInvalidationBus,
  withNearCache,
  type LatchkeyStore,
} from '@latchkey/core/store-kit';
import { storeOn } from './methods.js';
import { openDatabase, type SqliteStoreOptions } from './open.js';

/** A LatchkeyStore in one SQLite file, plus the connection for the app's own tables. */
export interface SqliteStore extends LatchkeyStore {
  /** The open connection: an app may keep its own tables in the same file (see `applyMigrations`). */
  readonly db: Database;
  /**
   * Drops every session and user held in memory (see `memoryCache`). Call it after
   * changing Latchkey's tables with your own SQL on `db` (deleting a user, say), so
   * the change is seen by the next request instead of up to `maxAgeMs` later.
   */
  clearMemoryCache(): void;
}

/**
 * The embedded default store: users, sessions and rate-limit counters in one SQLite
 * file. The connection runs in WAL mode with `synchronous = FULL` (a write is on
 * disk when its promise resolves), `foreign_keys = ON` (deleting a user deletes
 * their sessions) and a busy timeout; the schema is migrated at start-up. A given
 * `database` gets the same settings, and `close()` closes it. Rotation is one
 * compare-and-set `UPDATE`; any SQLite fault rejects the call.
 *
 * @param options.filename Path of the database file; missing parent folders are created.
 * @param options.database An open better-sqlite3 connection to use instead of `filename`.
 * @param options.busyTimeoutMs How long a write waits for another connection's lock. @default 5000
 * @param options.exclusive Hold the file's lock for as long as the store is open
 *   (`locking_mode = EXCLUSIVE`): every query then skips SQLite's per-transaction file
 *   locks, about 4x faster on a session lookup, and a second process (or connection)
 *   cannot open the file while the store is open: start-up fails with an error saying
 *   so, instead of two servers sharing one file. Set `false` to let other processes
 *   use the file at the same time. @default true
 * @param options.cacheSizeMiB SQLite's page cache for this connection. Session lookups
 *   touch a few pages each; a cache holding the active sessions' pages keeps lookup
 *   time flat as the table grows to millions of rows. @default 64
 * @param options.memoryCache Sessions and users read recently, kept in process memory
 *   (`withNearCache` over an in-process channel). Coherent because with `exclusive`
 *   every write goes through this store, which evicts what it changes; entries whose
 *   idle or absolute expiry has come are never served. Change Latchkey's tables only
 *   through the store, or call `clearMemoryCache()` after your own SQL on them: a row
 *   changed with raw SQL on `db` is otherwise served stale for up to `maxAgeMs`. Off
 *   (and refused) without `exclusive`.
 *   @default { maxEntries: 50000, maxAgeMs: 30000 } when exclusive
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { db, exclusive } = openDatabase(options);
  const store = storeOn(db);
  if (!exclusive || options.memoryCache === false) {
    return { ...store, db, clearMemoryCache: () => undefined };
  }
  const bus = createLocalInvalidationBus();
  const cached = withNearCache(store, bus.channel(), {
    maxEntries: options.memoryCache?.maxEntries ?? 50_000,
    maxAgeMs: options.memoryCache?.maxAgeMs ?? 30_000,
  });
  return {
    ...cached,
    name: 'sqlite',
    db,
    clearMemoryCache() {
      // A channel that goes down and comes back flushes the cache (its reset signal).
      bus.setHealthy(false);
      bus.setHealthy(true);
    },
  };
}
