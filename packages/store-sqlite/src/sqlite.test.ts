import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeStoreConformance, describeStoreFaults } from '@latchkey/store-conformance';
import type { SessionRecord, UserRecord } from '@latchkey/core';
import { applyMigrations, createSqliteStore, type SqliteStore } from './index.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'latchkey-sqlite-'));

describeStoreConformance('sqlite', async () => {
  const dir = await tempDir();
  const store = createSqliteStore({ filename: join(dir, 'latchkey.sqlite') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeStoreConformance('sqlite, shared file (exclusive: false, no memory cache)', async () => {
  const dir = await tempDir();
  const store = createSqliteStore({ filename: join(dir, 'latchkey.sqlite'), exclusive: false });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// The fault suite's cases that apply to an embedded store. SQLite runs inside this
// process, so there is no server to freeze (SIGSTOP would stop the test itself) and none
// to restart: reopening the file means a new store object, while the restarted case
// needs the same one to recover. So no frozen or restarted case is registered, and the
// "kill" closes the connection under the open store. Without the memory cache: with it,
// a session read before the close is still answered from process memory.
let underFault: SqliteStore | undefined;
describeStoreFaults('sqlite (connection closed under the store, no memory cache)', {
  async start() {
    const dir = await tempDir();
    return {
      url: join(dir, 'latchkey.sqlite'),
      kill: () => {
        underFault?.db.close();
        return Promise.resolve();
      },
      stop: () => rm(dir, { recursive: true, force: true }),
    };
  },
  open: ({ url }) => {
    underFault = createSqliteStore({ filename: url, memoryCache: false });
    return Promise.resolve(underFault);
  },
  canFreeze: false,
  canRestart: false,
  durable: true,
});

const user: UserRecord = {
  id: 'user-1',
  email: 'ada@example.test',
  name: 'Ada',
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  createdAt: 1_700_000_000_000,
  emailVerifiedAt: null,
  mfa: [],
};

const session: SessionRecord = {
  id: 'session-1',
  userId: user.id,
  secretHash: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
  previousSecretHash: 'LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564',
  rotatedAt: 1_700_000_030_000,
  createdAt: 1_700_000_000_000,
  lastSeenAt: 1_700_000_060_000,
  idleExpiresAt: 1_700_001_860_000,
  expiresAt: 1_700_043_200_000,
  userAgent: 'Mozilla/5.0',
  ip: '203.0.113.7',
};

describe('createSqliteStore', () => {
  let dir: string;
  let filename: string;
  const open: SqliteStore[] = [];
  const openStore = () => {
    const store = createSqliteStore({ filename });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await tempDir();
    // A folder that does not exist yet: the store creates it.
    filename = join(dir, 'data', 'latchkey.sqlite');
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout', () => {
    const { db } = openStore();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('holds the file exclusively by default: a second store on it fails with a clear error', async () => {
    const first = openStore();
    await first.users.createUser(user);
    expect(first.db.pragma('locking_mode', { simple: true })).toBe('exclusive');
    expect(() => createSqliteStore({ filename, busyTimeoutMs: 50 })).toThrow(
      /in use by another process or connection \(the store holds it exclusively/,
    );
    // The holder is unaffected.
    expect(await first.users.getUserById(user.id)).toEqual(user);
  });

  it("with exclusive: false, two connections share the file and see each other's writes", async () => {
    const first = createSqliteStore({ filename, exclusive: false });
    open.push(first);
    const second = createSqliteStore({ filename, exclusive: false });
    open.push(second);
    expect(first.db.pragma('locking_mode', { simple: true })).toBe('normal');
    await first.users.createUser(user);
    expect(await second.users.getUserById(user.id)).toEqual(user);
  });

  it('serves recently read sessions and users from memory and evicts what it changes', async () => {
    const store = openStore();
    const now = Date.now();
    // Only live sessions are served from memory.
    const live = { ...session, idleExpiresAt: now + 60_000, expiresAt: now + 3_600_000 };
    await store.users.createUser(user);
    await store.sessions.createSession(live);
    // Read once so both are cached, then change the rows behind the store's back.
    expect(await store.sessions.getSession(session.id)).toEqual(live);
    expect(await store.users.getUserById(user.id)).toEqual(user);
    store.db.prepare('UPDATE latchkey_sessions SET ip = ?').run('198.51.100.1');
    store.db.prepare('UPDATE latchkey_users SET name = ?').run('Changed');
    expect((await store.sessions.getSession(session.id))?.ip).toBe(live.ip);
    expect((await store.users.getUserById(user.id))?.name).toBe('Ada');
    // A change made through the store is seen at once.
    await store.users.setPasswordHash(user.id, '$argon2id$new');
    expect(await store.users.getUserById(user.id)).toMatchObject({
      name: 'Changed',
      passwordHash: '$argon2id$new',
    });
    // Your own SQL (deleting the user cascades to the session), then clearMemoryCache().
    expect(await store.sessions.getSession(session.id)).not.toBeNull(); // cached again
    store.db.prepare('DELETE FROM latchkey_users WHERE id = ?').run(user.id);
    expect(await store.sessions.getSession(session.id)).not.toBeNull();
    store.clearMemoryCache();
    expect(await store.sessions.getSession(session.id)).toBeNull();
    expect(await store.users.getUserById(user.id)).toBeNull();
    await store.users.createUser(user);
    await store.sessions.createSession(live);
    expect(await store.sessions.getSession(session.id)).toEqual(live);
    expect(await store.sessions.deleteSession(session.id)).toBe(true);
    expect(await store.sessions.getSession(session.id)).toBeNull();
    // Copies: a caller mutating what it got does not change what the next one gets.
    await store.sessions.createSession(live);
    const first = await store.sessions.getSession(session.id);
    if (first) first.userAgent = 'mutated';
    expect((await store.sessions.getSession(session.id))?.userAgent).toBe(session.userAgent);
  });

  it('reads every time with memoryCache: false, and refuses a cache without exclusive', async () => {
    const store = createSqliteStore({ filename, memoryCache: false });
    open.push(store);
    await store.users.createUser(user);
    expect((await store.users.getUserById(user.id))?.name).toBe('Ada');
    store.db.prepare('UPDATE latchkey_users SET name = ?').run('Changed');
    expect((await store.users.getUserById(user.id))?.name).toBe('Changed');
    expect(() =>
      createSqliteStore({ filename: join(dir, 'other.sqlite'), exclusive: false, memoryCache: {} }),
    ).toThrow(/memoryCache needs exclusive/);
  });

  it('sets the page cache size and refuses a nonsense one', () => {
    const store = createSqliteStore({ filename, cacheSizeMiB: 8 });
    open.push(store);
    expect(store.db.pragma('cache_size', { simple: true })).toBe(-8192);
    expect(() => createSqliteStore({ filename, cacheSizeMiB: 0 })).toThrow(/cacheSizeMiB/);
  });

  it('keeps data across re-opening and does not re-run migrations', async () => {
    const first = openStore();
    await first.users.createUser(user);
    expect(applyMigrations(first.db, 'app', ['CREATE TABLE notes (id TEXT PRIMARY KEY)'])).toBe(1);
    await first.close();

    // Re-running a CREATE TABLE would throw, so opening at all shows nothing re-ran.
    const second = openStore();
    expect(await second.users.getUserById(user.id)).toEqual(user);
    expect(applyMigrations(second.db, 'app', ['CREATE TABLE notes (id TEXT PRIMARY KEY)'])).toBe(0);
    expect(
      applyMigrations(second.db, 'app', [
        'CREATE TABLE notes (id TEXT PRIMARY KEY)',
        'ALTER TABLE notes ADD COLUMN text TEXT',
      ]),
    ).toBe(1);
    expect(
      second.db.prepare('SELECT name, version FROM latchkey_migrations ORDER BY name').all(),
    ).toEqual([
      { name: 'app', version: 2 },
      { name: 'latchkey', version: 2 },
    ]);
  });

  it('applies a set of migrations all or nothing', () => {
    const { db } = openStore();
    expect(() =>
      applyMigrations(db, 'app', ['CREATE TABLE notes (id TEXT PRIMARY KEY)', 'NOT SQL']),
    ).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'notes'").get()).toBeUndefined();
    expect(
      db.prepare("SELECT version FROM latchkey_migrations WHERE name = 'app'").get(),
    ).toBeUndefined();
  });

  it('refuses a file migrated further than the code knows', () => {
    const { db } = openStore();
    applyMigrations(db, 'app', ['CREATE TABLE a (x)', 'CREATE TABLE b (x)']);
    expect(() => applyMigrations(db, 'app', ['CREATE TABLE a (x)'])).toThrow(/newer/);
  });

  it('stores exactly the given hashes and nothing derived from a secret', async () => {
    const store = openStore();
    await store.users.createUser(user);
    await store.sessions.createSession(session);

    expect(store.db.prepare('SELECT * FROM latchkey_sessions').all()).toEqual([
      {
        id: session.id,
        user_id: session.userId,
        secret_hash: session.secretHash,
        previous_secret_hash: session.previousSecretHash,
        rotated_at: session.rotatedAt,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        idle_expires_at: session.idleExpiresAt,
        expires_at: session.expiresAt,
        user_agent: session.userAgent,
        ip: session.ip,
      },
    ]);
    expect(store.db.prepare('SELECT * FROM latchkey_users').all()).toEqual([
      {
        id: user.id,
        email: user.email,
        name: user.name,
        password_hash: user.passwordHash,
        created_at: user.createdAt,
        email_verified_at: null,
        mfa: '[]',
      },
    ]);
  });

  it('enforces the user foreign key and deletes sessions with their user', async () => {
    const store = openStore();
    await expect(store.sessions.createSession(session)).rejects.toThrow(/FOREIGN KEY/);

    await store.users.createUser(user);
    await store.sessions.createSession(session);
    store.db.prepare('DELETE FROM latchkey_users WHERE id = ?').run(user.id);
    expect(await store.sessions.getSession(session.id)).toBeNull();
  });

  it('rejects a duplicate user id instead of reporting a taken email', async () => {
    const store = openStore();
    await store.users.createUser(user);
    await expect(store.users.createUser({ ...user, email: 'other@example.test' })).rejects.toThrow(
      /UNIQUE/,
    );
  });

  it('sweeps finished rate-limit windows with the expired sessions', async () => {
    const store = openStore();
    const limiter = store.rateLimits.createLimiter({ name: 'login-account', windowMs: 60_000 });
    await limiter.hit('ada');
    const count = () => store.db.prepare('SELECT count(*) AS n FROM latchkey_rate_limits').get();

    await store.sessions.deleteExpiredSessions(Date.now());
    expect(count()).toEqual({ n: 1 });
    await store.sessions.deleteExpiredSessions(Date.now() + 61_000);
    expect(count()).toEqual({ n: 0 });
  });

  it('counts the first hit of a brand-new file (the limiter table is ready at once)', async () => {
    const store = openStore();
    const state = await store.rateLimits
      .createLimiter({ name: 'login-address', windowMs: 1000 })
      .hit('x');
    expect(state.consumed).toBe(1);
  });

  it('works on a connection the caller opened, and closes it', async () => {
    const db = new BetterSqlite3(join(dir, 'own.sqlite'));
    const store = createSqliteStore({ database: db });
    expect(store.db).toBe(db);
    expect(await store.users.createUser(user)).toBe(true);
    await store.close();
    expect(db.open).toBe(false);
  });

  it('throws on every call once closed, rather than answering "not found"', async () => {
    const store = openStore();
    await store.users.createUser(user);
    await store.close();
    await store.close(); // idempotent

    await expect(store.ping()).rejects.toThrow(/not open/);
    await expect(store.users.getUserById(user.id)).rejects.toThrow(/not open/);
    await expect(store.users.getUserByEmail(user.email)).rejects.toThrow(/not open/);
    await expect(store.sessions.getSession(session.id)).rejects.toThrow(/not open/);
    await expect(store.sessions.deleteSession(session.id)).rejects.toThrow(/not open/);
    const rotation = { ...session, rotatedAt: Date.now() };
    await expect(store.sessions.rotateSecret(session.id, 'a', rotation)).rejects.toThrow(
      /not open/,
    );
    const limiter = store.rateLimits.createLimiter({ name: 'login-account', windowMs: 1000 });
    await expect(limiter.get('ada')).rejects.toThrow(/not open/);
    await expect(limiter.hit('ada')).rejects.toThrow(/not open/);
  });

  it(
    'loses nothing that resolved when the process is SIGKILLed right after',
    { timeout: 30_000 },
    async () => {
      const fixture = fileURLToPath(
        new URL('../test-fixtures/commit-then-wait.ts', import.meta.url),
      );
      const child = spawn(
        process.execPath,
        ['--conditions=@latchkey/source', '--import', 'tsx', fixture, filename],
        {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );

      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('committed')) resolve();
          });
          child.once('exit', () => reject(new Error(`fixture exited early: ${stderr}`)));
        });
      } finally {
        // No chance to close or checkpoint: only what reached the file (WAL) counts.
        child.kill('SIGKILL');
      }
      expect(await exited).toBe('SIGKILL');

      const store = openStore();
      expect(await store.users.getUserById('durable-user')).toMatchObject({
        email: 'durable@example.test',
      });
      expect(await store.sessions.getSession('durable-session')).toMatchObject({
        userId: 'durable-user',
        secretHash: 'durable-hash',
      });
    },
  );
});
