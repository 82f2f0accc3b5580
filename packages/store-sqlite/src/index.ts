/*
 * @latchkey/store-sqlite: users, sessions and rate-limit counters in one SQLite file.
 *
 *   schema.ts      Latchkey's tables, as migrations
 *   migrations.ts  applyMigrations (one IMMEDIATE transaction), also for the app's tables
 *   open.ts        options, opening and setting up the connection
 *   statements.ts  the prepared statements
 *   methods.ts     the store's methods over them, and the rate limiter
 *   store.ts       createSqliteStore, the factory (with the memory cache)
 */
export type { Database as SqliteDatabase } from 'better-sqlite3';
export { applyMigrations } from './migrations.js';
export type { SqliteStoreOptions } from './open.js';
export { createSqliteStore, type SqliteStore } from './store.js';
