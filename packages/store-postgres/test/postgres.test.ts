import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionRecord } from '@latchkey/core';
import { applyMigrations, createPostgresStore, type PostgresStore } from '../src/index.js';
import { adminQuery, DATABASE_URL, dropSchema, sharedStore, testSchema } from './helpers.js';
import { newSession as sampleSession, newUser as sampleUser } from '@latchkey/store-conformance';
// Nullable fields left empty, so the round trip of null is exercised too.
const newUser = () => sampleUser({ name: null });
const newSession = (userId: string, overrides: Partial<SessionRecord> = {}) =>
  sampleSession(userId, { userAgent: null, ip: null, ...overrides });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// Every test registers what it opens; afterEach closes the stores and drops the schemas.
const stores: PostgresStore[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(schemas.splice(0).map(dropSchema));
});

async function open(
  schema: string,
  options: { sweepBatchSize?: number; statementTimeoutMs?: number } = {},
) {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await createPostgresStore({
    connectionString: DATABASE_URL,
    schema,
    max: 4,
    ...options,
  });
  stores.push(store);
  return store;
}

const migrationVersion = async (schema: string) =>
  adminQuery(`SELECT name, version FROM "${schema}".latchkey_migrations ORDER BY name`);

describe('createPostgresStore migrations', () => {
  it('creates the schema and tables, and re-opening applies nothing again', async () => {
    const schema = testSchema();
    const first = await open(schema);
    const user = newUser();
    await first.users.createUser(user);
    await first.close();

    const second = await open(schema);
    expect(await second.users.getUserById(user.id)).toEqual(user);
    expect(await migrationVersion(schema)).toEqual([{ name: 'latchkey', version: 2 }]);
    expect(
      await adminQuery(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      ),
    ).toEqual([
      { table_name: 'latchkey_migrations' },
      { table_name: 'latchkey_rate_limits' },
      { table_name: 'latchkey_records' },
      { table_name: 'latchkey_sessions' },
      { table_name: 'latchkey_users' },
    ]);
  });

  it('is safe when five app servers start at once on a fresh schema', async () => {
    const schema = testSchema();
    const started = await Promise.all(Array.from({ length: 5 }, () => open(schema)));

    expect(await migrationVersion(schema)).toEqual([{ name: 'latchkey', version: 2 }]);
    // They share one database: what one writes, the others read.
    const user = newUser();
    expect(await started[0]!.users.createUser(user)).toBe(true);
    for (const store of started) expect(await store.users.getUserByEmail(user.email)).toEqual(user);
  });

  it('applies an app’s own migrations beside Latchkey’s, each once, and rolls back a failing one', async () => {
    const schema = testSchema();
    const store = await open(schema);
    const client = await store.pool.connect();
    try {
      const notes = ['CREATE TABLE notes (id TEXT PRIMARY KEY)'];
      expect(await applyMigrations(client, schema, 'app', notes)).toBe(1);
      expect(await applyMigrations(client, schema, 'app', notes)).toBe(0);
      expect(await applyMigrations(client, schema, 'latchkey', ['', ''])).toBe(0);

      const broken = [...notes, 'CREATE TABLE tags (id TEXT)', 'CREATE TABLE oops ('];
      await expect(applyMigrations(client, schema, 'app', broken)).rejects.toThrow();
      const tags = await adminQuery(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'tags'`,
        [schema],
      );
      expect(tags).toEqual([]);
      expect(await migrationVersion(schema)).toEqual([
        { name: 'app', version: 1 },
        { name: 'latchkey', version: 2 },
      ]);
    } finally {
      client.release();
    }
  });

  it('refuses to start on a database migrated by newer code', async () => {
    const schema = testSchema();
    await (await open(schema)).close();
    await adminQuery(`UPDATE "${schema}".latchkey_migrations SET version = 99`);
    await expect(open(schema)).rejects.toThrow(/newer than this code/);
  });
});

describe('createPostgresStore', () => {
  it('sweeps expired sessions in batches, never one long DELETE', async () => {
    const { store, cleanup } = await sharedStore({ sweepBatchSize: 10 });
    try {
      const user = newUser();
      await store.users.createUser(user);
      const now = Date.now();
      for (let i = 0; i < 25; i++) {
        await store.sessions.createSession(newSession(user.id, { idleExpiresAt: now + HOUR }));
      }
      const live = newSession(user.id, {
        idleExpiresAt: now + 5 * HOUR,
        expiresAt: now + 6 * HOUR,
      });
      await store.sessions.createSession(live);
      const query = vi.spyOn(store.pool, 'query');

      expect(await store.sessions.deleteExpiredSessions(now + 2 * HOUR)).toBe(25);

      const sessionDeletes = query.mock.calls.filter(
        ([config]) => typeof config === 'string' && /DELETE FROM .*latchkey_sessions/.test(config),
      );
      expect(sessionDeletes).toHaveLength(3); // 10 + 10 + 5
      expect(await store.sessions.listUserSessions(user.id, now)).toEqual([live]);
    } finally {
      await cleanup();
    }
  });

  it('lets exactly one rotation win across two app servers', async () => {
    const schema = testSchema();
    const [a, b] = [await open(schema), await open(schema)];
    const user = newUser();
    await a.users.createUser(user);
    const session = newSession(user.id);
    await a.sessions.createSession(session);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).sessions.rotateSecret(session.id, session.secretHash, {
          secretHash: `next-${i}`,
          previousSecretHash: session.secretHash,
          rotatedAt: Date.now(),
          lastSeenAt: Date.now(),
          idleExpiresAt: Date.now() + HOUR,
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await b.sessions.getSession(session.id))?.secretHash).toBe(`next-${winner}`);
  });

  it('deleting a user (by SQL) deletes their sessions', async () => {
    const { store, schema, cleanup } = await sharedStore();
    try {
      const user = newUser();
      await store.users.createUser(user);
      const session = newSession(user.id);
      await store.sessions.createSession(session);
      await adminQuery(`DELETE FROM "${schema}".latchkey_users WHERE id = $1`, [user.id]);
      expect(await store.sessions.getSession(session.id)).toBeNull();
    } finally {
      await cleanup();
    }
  });

  it('counts a rate-limit key longer than 255 characters', async () => {
    const { store, cleanup } = await sharedStore();
    try {
      const limiter = store.rateLimits.createLimiter({ name: 'login-account', windowMs: MINUTE });
      const key = `${'a'.repeat(300)}@example.test`;
      expect((await limiter.hit(key)).consumed).toBe(1);
      expect((await limiter.get(key))?.consumed).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('bounds every statement: a slow one is cancelled, and the pool keeps working', async () => {
    const { store, cleanup } = await sharedStore({ statementTimeoutMs: 300 });
    try {
      const started = performance.now();
      await expect(store.pool.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
      expect(performance.now() - started).toBeLessThan(3000);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('rejects at start-up, quickly, when the server cannot be reached', async () => {
    const started = performance.now();
    await expect(
      createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' }),
    ).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('refuses a schema name that would need quoting, and bad numbers', async () => {
    await expect(
      createPostgresStore({ connectionString: DATABASE_URL, schema: 'Bad-Schema' }),
    ).rejects.toThrow(TypeError);
    await expect(
      createPostgresStore({ connectionString: DATABASE_URL, sweepBatchSize: 0 }),
    ).rejects.toThrow(TypeError);
  });

  it('close is idempotent', async () => {
    const { store, cleanup } = await sharedStore();
    await cleanup();
    await expect(store.close()).resolves.toBeUndefined();
    await expect(store.ping()).rejects.toThrow();
  });
});
