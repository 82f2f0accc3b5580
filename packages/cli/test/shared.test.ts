import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NearCacheStats } from '@latchkey/core/store-kit';
import {
  account,
  admitted,
  DATABASE_URL,
  expectOneLineError,
  latchkey,
  openApp,
  REDIS_URL,
  SECRET,
  sessionIdOf,
  type App,
  type Device,
} from './helpers.js';

// The operator commands against the scaled-out deployment: users in PostgreSQL,
// sessions in Redis, a near-cache on every server. The "server" here is a Latchkey in
// the test process on the same stores, with a 30 s near-cache that stays open while
// the CLI runs: a revoked session it had cached is refused at once only if the CLI's
// invalidation reached it. Each run has its own PostgreSQL schema and Redis key prefix
// (and so its own invalidation channel), removed afterwards.

describe('latchkey on PostgreSQL + Redis, with a near-cache on the server', () => {
  const schema = `latchkey_cli_${randomBytes(8).toString('hex')}`;
  const prefix = `latchkey-cli-test:${randomUUID()}:`;
  let dataDir: string;
  /** What the operator's shell has: the servers' configuration, without the near-cache. */
  let env: Record<string, string>;
  let server: App;
  let ada: Device[];
  let bob: Device[];

  const stats = () => (server.opened.store as unknown as { stats: NearCacheStats }).stats;

  /** Authenticates `device` until the server answers it from its near-cache. */
  async function cachedOnServer(device: Device): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const hits = stats().hits;
      expect(await admitted(server, device)).toBe(true);
      if (stats().hits > hits) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the near-cache never served the session');
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-shared-'));
    env = {
      DATABASE_URL,
      LATCHKEY_REDIS_URL: REDIS_URL,
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_DATABASE_SCHEMA: schema,
      LATCHKEY_REDIS_PREFIX: prefix,
      LATCHKEY_DATA_DIR: dataDir,
    };
    server = await openApp({ ...env, LATCHKEY_NEAR_CACHE: '30s' });
    ada = await account(server, 'ada@example.com', 3);
    bob = await account(server, 'bob@example.com', 2);
  });

  afterAll(async () => {
    try {
      const { database, redis } = server.opened;
      if (database.kind === 'postgres') {
        await database.store.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      if (redis) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.client.scan(
            cursor,
            'MATCH',
            `${prefix}*`,
            'COUNT',
            1000,
          );
          cursor = next;
          if (keys.length > 0) await redis.client.del(...keys);
        } while (cursor !== '0');
      }
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('sessions list reads the shared stores', async () => {
    expect(server.opened.description).toBe('users in postgres, sessions in redis, near-cache 30s');
    const run = await latchkey(['sessions', 'list', '--email', 'ada@example.com', '--json'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout).sessions.map((s: { id: string }) => s.id)).toEqual(
      ada.map(sessionIdOf),
    );
  });

  it('revoke --id reaches the server’s near-cache at once (the CLI itself runs without one)', async () => {
    const [first, second] = ada as [Device, Device];
    await cachedOnServer(first);
    await cachedOnServer(second);

    const run = await latchkey(
      ['sessions', 'revoke', '--email', 'ada@example.com', '--id', sessionIdOf(first)],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.messages).toEqual([]);
    expect(run.stdout).toBe(`Revoked session ${sessionIdOf(first)} of ada@example.com.\n`);

    expect(await admitted(server, first)).toBe(false);
    expect(await admitted(server, second)).toBe(true);
  });

  it('revoke --all, with the servers’ own LATCHKEY_NEAR_CACHE set: every cached session is refused', async () => {
    const live = ada.slice(1);
    for (const device of [...live, ...bob]) await cachedOnServer(device);

    const run = await latchkey(['sessions', 'revoke', '--email', 'ada@example.com', '--all'], {
      ...env,
      LATCHKEY_NEAR_CACHE: '30s',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Revoked 2 sessions of ada@example.com.\n');
    expect(run.events).toEqual([
      expect.objectContaining({ event: 'sessions_revoked', count: 2, by: 'operator' }),
    ]);

    for (const device of live) expect(await admitted(server, device)).toBe(false);
    for (const device of bob) expect(await admitted(server, device)).toBe(true);
  });

  it('users delete: the account, its sessions in Redis and its cached copies are gone', async () => {
    for (const device of bob) await cachedOnServer(device);
    const run = await latchkey(
      ['users', 'delete', '--email', 'bob@example.com', '--yes', '--json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ deleted: true, sessionsRevoked: 2 });

    for (const device of bob) expect(await admitted(server, device)).toBe(false);
    expect(await server.latchkey.admin.findUser('bob@example.com')).toMatchObject({ ok: false });
    expect(
      await server.opened.store.sessions.listUserSessions(
        JSON.parse(run.stdout).user.id,
        Date.now(),
      ),
    ).toEqual([]);
  });

  it('an unknown email: exit 1, one line', async () => {
    const run = await latchkey(['sessions', 'list', '--email', 'nobody@example.com'], env);
    expectOneLineError(run, 1, /^latchkey: nobody@example\.com: No account has this email\.$/);
  });

  it.each([
    ['Redis', 'LATCHKEY_REDIS_URL', 'redis://127.0.0.1:1'],
    ['PostgreSQL', 'DATABASE_URL', 'postgres://postgres:hunter2@127.0.0.1:1/test'],
  ])('%s unreachable: exit 3, one line naming the key and the address', async (name, key, url) => {
    const run = await latchkey(['sessions', 'revoke', '--email', 'ada@example.com', '--all'], {
      ...env,
      [key]: url,
    });
    expectOneLineError(
      run,
      3,
      new RegExp(`^latchkey: cannot reach the store: ${name} at ${key}: .*127\\.0\\.0\\.1:1\\b`),
    );
    expect(run.stderr).not.toContain('hunter2');
  });
});
