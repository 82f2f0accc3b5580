/*
 * @latchkey/store-postgres: users, sessions and rate-limit counters in PostgreSQL.
 *
 *   schema.ts      Latchkey's tables, as migrations
 *   migrations.ts  applyMigrations (advisory lock, one transaction), also for the app's tables
 *   connection.ts  options, the start-up migration and the pool
 *   rows.ts        rows to records
 *   queries.ts     the named-statement runner and table names
 *   users.ts       the user queries
 *   sessions.ts    the session queries and the expiry sweep
 *   limiter.ts     the rate limiter
 *   store.ts       createPostgresStore, the factory
 *   invalidation.ts  the near-cache's LISTEN/NOTIFY channel (subpath ./invalidation)
 */
export type { Pool as PostgresPool } from 'pg';
export { applyMigrations } from './migrations.js';
export type { PostgresStoreOptions } from './connection.js';
export { createPostgresStore, type PostgresStore } from './store.js';
