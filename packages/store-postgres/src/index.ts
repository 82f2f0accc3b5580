import { Client, escapeIdentifier, Pool, type ClientBase, type QueryResultRow } from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type LatchkeyStore,
  type SessionRecord,
  type UserRecord,
} from '@latchkey/core/store-kit';

export type { Pool as PostgresPool } from 'pg';

/** A LatchkeyStore in PostgreSQL, plus the pool for the app's own tables. */
export interface PostgresStore extends LatchkeyStore {
  /** The store's pool: an app may keep its own tables in the same database (see `applyMigrations`). */
  readonly pool: Pool;
  /** The schema holding Latchkey's tables. */
  readonly schema: string;
}

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

const RATE_LIMIT_TABLE = 'latchkey_rate_limits';

/**
 * Latchkey's schema, one entry per version. Append new entries; never edit a shipped
 * one. Same tables as the SQLite store; times are BIGINT epoch milliseconds. Entries
 * run with `search_path` set to the store's schema.
 */
const MIGRATIONS = [
  `CREATE TABLE latchkey_users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     name TEXT,
     password_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL
   );
   CREATE TABLE latchkey_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES latchkey_users (id) ON DELETE CASCADE,
     secret_hash TEXT NOT NULL,
     previous_secret_hash TEXT,
     rotated_at BIGINT,
     created_at BIGINT NOT NULL,
     last_seen_at BIGINT NOT NULL,
     idle_expires_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     user_agent TEXT,
     ip TEXT
   );
   CREATE INDEX latchkey_sessions_user ON latchkey_sessions (user_id, created_at);
   CREATE INDEX latchkey_sessions_expiry ON latchkey_sessions (LEAST(idle_expires_at, expires_at));
   -- rate-limiter-flexible's own layout (column order matters to its INSERT), created here
   -- so it exists before the first hit; TEXT rather than its varchar(255), so a long key
   -- (an email) cannot make a hit fail.
   CREATE TABLE ${RATE_LIMIT_TABLE} (
     key TEXT PRIMARY KEY,
     points INTEGER NOT NULL DEFAULT 0,
     expire BIGINT
   );
   CREATE INDEX latchkey_rate_limits_expire ON ${RATE_LIMIT_TABLE} (expire);`,
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Brings the named set of migrations in `schema` up to date, in one transaction on
 * `client`: takes a transaction-scoped advisory lock for that schema (so app servers
 * starting together run the migrations one after another, and the later ones find
 * nothing to do), creates the schema and the `latchkey_migrations` table when
 * missing, runs the entries it has not seen yet with `search_path` set to the schema,
 * and records the new version. A failing entry rolls everything back. Throws when the
 * database holds a newer version than `migrations` knows. Returns how many entries ran.
 */
export async function applyMigrations(
  client: ClientBase,
  schema: string,
  name: string,
  migrations: readonly string[],
): Promise<number> {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`schema must be lower-case letters, digits and _, got ${schema}`);
  }
  const id = escapeIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('latchkey-migrations'), hashtext($1))",
      [schema],
    );
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${id}`);
    await client.query(`SET LOCAL search_path TO ${id}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${id}.latchkey_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL)`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${id}.latchkey_migrations WHERE name = $1`,
      [name],
    );
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database has ${name} migration ${current}, newer than this code's ${migrations.length}`,
      );
    }
    const pending = migrations.slice(current);
    for (const sql of pending) await client.query(sql);
    if (pending.length > 0) {
      await client.query(
        `INSERT INTO ${id}.latchkey_migrations (name, version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
        [name, migrations.length],
      );
    }
    await client.query('COMMIT');
    return pending.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** BIGINT arrives as a string (pg cannot know it fits a double; epoch ms always do). */
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null ? null : Number(value));

interface UserRow extends QueryResultRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  created_at: string;
}

interface SessionRow extends QueryResultRow {
  id: string;
  user_id: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  rotated_at: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  createdAt: num(row.created_at),
});

const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  secretHash: row.secret_hash,
  previousSecretHash: row.previous_secret_hash,
  rotatedAt: numOrNull(row.rotated_at),
  createdAt: num(row.created_at),
  lastSeenAt: num(row.last_seen_at),
  idleExpiresAt: num(row.idle_expires_at),
  expiresAt: num(row.expires_at),
  userAgent: row.user_agent,
  ip: row.ip,
});

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
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`schema must be lower-case letters, digits and _, got ${schema}`);
  }
  const statementTimeoutMs = positiveInteger(
    'statementTimeoutMs',
    options.statementTimeoutMs ?? 2000,
  );
  const connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 2000);
  const migrationTimeoutMs = positiveInteger(
    'migrationTimeoutMs',
    options.migrationTimeoutMs ?? 60_000,
  );
  const sweepBatchSize = positiveInteger('sweepBatchSize', options.sweepBatchSize ?? 1000);
  const max = positiveInteger('max', options.max ?? 10);
  const onError = options.onError ?? (() => undefined);

  // Migrations get their own connection with a longer limit than ordinary statements.
  const migrator = new Client({
    connectionString: options.connectionString,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: migrationTimeoutMs,
    query_timeout: migrationTimeoutMs + 1000,
    application_name: 'latchkey-migrate',
  });
  migrator.on('error', onError);
  try {
    await migrator.connect();
    await applyMigrations(migrator, schema, 'latchkey', MIGRATIONS);
  } finally {
    await migrator.end().catch(() => undefined);
  }

  const pool = new Pool({
    connectionString: options.connectionString,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
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
  pool.on('error', onError);

  const s = escapeIdentifier(schema);
  const users = `${s}.latchkey_users`;
  const sessions = `${s}.latchkey_sessions`;
  const limits = `${s}.${RATE_LIMIT_TABLE}`;

  /** Named statements are parsed and planned once per connection. */
  const run = <R extends QueryResultRow>(name: string, text: string, values: unknown[]) =>
    pool.query<R>({ name: `latchkey-${name}`, text, values });

  /** Deletes matching rows `sweepBatchSize` at a time; skips rows another transaction holds. */
  async function deleteInBatches(table: string, key: string, where: string, value: number) {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(
        `DELETE FROM ${table} WHERE ${key} IN (
           SELECT ${key} FROM ${table} WHERE ${where} LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [value, sweepBatchSize],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < sweepBatchSize) return total;
    }
  }

  let closing: Promise<void> | undefined;

  return {
    name: 'postgres',
    pool,
    schema,
    users: {
      async createUser(user) {
        // Only an email clash is a "no"; any other failure (a duplicate id) throws.
        const { rowCount } = await run(
          'create-user',
          `INSERT INTO ${users} (id, email, name, password_hash, created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING`,
          [user.id, user.email, user.name, user.passwordHash, user.createdAt],
        );
        return rowCount === 1;
      },
      async getUserByEmail(email) {
        const { rows } = await run<UserRow>(
          'user-by-email',
          `SELECT * FROM ${users} WHERE email = $1`,
          [email],
        );
        return rows[0] ? toUser(rows[0]) : null;
      },
      async getUserById(id) {
        const { rows } = await run<UserRow>('user-by-id', `SELECT * FROM ${users} WHERE id = $1`, [
          id,
        ]);
        return rows[0] ? toUser(rows[0]) : null;
      },
      async setPasswordHash(userId, passwordHash) {
        await run('set-password', `UPDATE ${users} SET password_hash = $2 WHERE id = $1`, [
          userId,
          passwordHash,
        ]);
      },
    },
    sessions: {
      async createSession(x) {
        await run(
          'create-session',
          `INSERT INTO ${sessions} (id, user_id, secret_hash, previous_secret_hash, rotated_at,
             created_at, last_seen_at, idle_expires_at, expires_at, user_agent, ip)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            x.id,
            x.userId,
            x.secretHash,
            x.previousSecretHash,
            x.rotatedAt,
            x.createdAt,
            x.lastSeenAt,
            x.idleExpiresAt,
            x.expiresAt,
            x.userAgent,
            x.ip,
          ],
        );
      },
      async getSession(id) {
        const { rows } = await run<SessionRow>(
          'session-by-id',
          `SELECT * FROM ${sessions} WHERE id = $1`,
          [id],
        );
        return rows[0] ? toSession(rows[0]) : null;
      },
      async touchSession(id, lastSeenAt, idleExpiresAt) {
        await run(
          'touch-session',
          `UPDATE ${sessions} SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1`,
          [id, lastSeenAt, idleExpiresAt],
        );
      },
      async rotateSecret(id, expectedSecretHash, next) {
        // The WHERE clause is the compare-and-set (see the doc comment).
        const { rowCount } = await run(
          'rotate-secret',
          `UPDATE ${sessions} SET secret_hash = $3, previous_secret_hash = $4, rotated_at = $5,
             last_seen_at = $6, idle_expires_at = $7
           WHERE id = $1 AND secret_hash = $2`,
          [
            id,
            expectedSecretHash,
            next.secretHash,
            next.previousSecretHash,
            next.rotatedAt,
            next.lastSeenAt,
            next.idleExpiresAt,
          ],
        );
        return rowCount === 1;
      },
      async deleteSession(id) {
        const { rowCount } = await run('delete-session', `DELETE FROM ${sessions} WHERE id = $1`, [
          id,
        ]);
        return (rowCount ?? 0) > 0;
      },
      async listUserSessions(userId, now) {
        const { rows } = await run<SessionRow>(
          'list-sessions',
          `SELECT * FROM ${sessions}
           WHERE user_id = $1 AND expires_at > $2 AND idle_expires_at > $2
           ORDER BY created_at, id COLLATE "C"`,
          [userId, now],
        );
        return rows.map(toSession);
      },
      async deleteUserSessions(userId, exceptId) {
        const { rowCount } = await run(
          'delete-user-sessions',
          `DELETE FROM ${sessions} WHERE user_id = $1 AND id IS DISTINCT FROM $2`,
          [userId, exceptId ?? null],
        );
        return rowCount ?? 0;
      },
      async deleteExpiredSessions(now) {
        // rate-limiter-flexible dates its windows by Date.now(), so its rows are swept by that clock.
        await deleteInBatches(limits, 'key', 'expire <= $1', Date.now());
        return deleteInBatches(sessions, 'id', 'LEAST(idle_expires_at, expires_at) <= $1', now);
      },
    },
    rateLimits: {
      createLimiter: (limiter) =>
        fromRateLimiterFlexible(
          new RateLimiterPostgres({
            ...rateLimiterFlexibleOptions(limiter),
            storeClient: pool,
            storeType: 'pool',
            schemaName: schema,
            tableName: RATE_LIMIT_TABLE,
            // The migration made the table; left to itself the library creates it
            // asynchronously and rejects any hit that arrives before that finishes.
            tableCreated: true,
            // Its own sweep is a timer that would outlive close(); deleteExpiredSessions sweeps.
            clearExpiredByTimeout: false,
          }),
        ),
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
