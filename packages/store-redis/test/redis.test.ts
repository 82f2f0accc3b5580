import calculateSlot from 'cluster-key-slot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '@latchkey/core';
import { createRedisStore, redisKeys, type RedisStore } from '../src/index.js';
import { keysUnder, sharedStore } from './helpers.js';
import { newSession as sampleSession, newUser as sampleUser } from '@latchkey/store-conformance';
// Nullable fields left empty, so the round trip of null is exercised too.
const newUser = () => sampleUser({ name: null });
const newSession = (userId: string, overrides: Partial<SessionRecord> = {}) =>
  sampleSession(userId, { userAgent: null, ip: null, ...overrides });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createRedisStore', () => {
  let store: RedisStore;
  let prefix: string;
  let cleanup: () => Promise<void>;
  let keys: ReturnType<typeof redisKeys>;
  let user: UserRecord;

  beforeEach(async () => {
    ({ store, prefix, cleanup } = await sharedStore());
    keys = redisKeys(prefix);
    user = newUser();
    expect(await store.users.createUser(user)).toBe(true);
  });

  afterEach(async () => {
    await cleanup();
  });

  const pttl = (key: string) => store.client.pttl(key);

  it('lets Redis expire a session at its idle expiry; touch and rotation move the expiry', async () => {
    const now = Date.now();
    const session = newSession(user.id, { idleExpiresAt: now + 10 * MINUTE });
    await store.sessions.createSession(session);
    const key = keys.session(session.id);

    expect(await pttl(key)).toBeGreaterThan(10 * MINUTE - 5000);
    expect(await pttl(key)).toBeLessThanOrEqual(10 * MINUTE);

    await store.sessions.touchSession(session.id, now, now + 20 * MINUTE);
    expect(await pttl(key)).toBeGreaterThan(20 * MINUTE - 5000);

    // Never past the absolute expiry, even when asked to.
    await store.sessions.touchSession(session.id, now, now + 24 * HOUR);
    expect(await pttl(key)).toBeGreaterThan(12 * HOUR - 5000);
    expect(await pttl(key)).toBeLessThanOrEqual(12 * HOUR);

    const rotated = await store.sessions.rotateSecret(session.id, session.secretHash, {
      secretHash: 'next',
      previousSecretHash: session.secretHash,
      rotatedAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 5 * MINUTE,
    });
    expect(rotated).toBe(true);
    expect(await pttl(key)).toBeLessThanOrEqual(5 * MINUTE);
    expect(await pttl(key)).toBeGreaterThan(5 * MINUTE - 5000);
  });

  it('a session whose time is up is gone from Redis without any sweep', async () => {
    const session = newSession(user.id, { idleExpiresAt: Date.now() + 300 });
    await store.sessions.createSession(session);
    expect(await store.sessions.getSession(session.id)).toEqual(session);

    await sleep(450);

    expect(await store.client.exists(keys.session(session.id))).toBe(0);
    expect(await store.sessions.getSession(session.id)).toBeNull();
  });

  it('touching an unknown session creates no key', async () => {
    await store.sessions.touchSession('session-missing', Date.now(), Date.now() + HOUR);
    expect(await store.client.exists(keys.session('session-missing'))).toBe(0);
  });

  it('gives the session index the TTL of its longest-lived session', async () => {
    const now = Date.now();
    await store.sessions.createSession(newSession(user.id, { expiresAt: now + HOUR }));
    await store.sessions.createSession(newSession(user.id, { expiresAt: now + 3 * HOUR }));
    await store.sessions.createSession(newSession(user.id, { expiresAt: now + 2 * HOUR }));

    const ttl = await pttl(keys.sessionIndex(user.id));
    expect(ttl).toBeGreaterThan(3 * HOUR - 5000);
    expect(ttl).toBeLessThanOrEqual(3 * HOUR);
  });

  it('leaves no session or index key behind after revoke-all, logout or expiry', async () => {
    const other = newUser();
    await store.users.createUser(other);
    const userKeys = () => keysUnder(store.client, prefix);
    const baseline = (await userKeys()).sort();
    expect(baseline).toEqual(
      [
        keys.user(user.id),
        keys.email(user.email),
        keys.user(other.id),
        keys.email(other.email),
      ].sort(),
    );

    // Revoke-all.
    for (let i = 0; i < 3; i++) await store.sessions.createSession(newSession(user.id));
    expect(await store.sessions.deleteUserSessions(user.id)).toBe(3);
    expect((await userKeys()).sort()).toEqual(baseline);

    // Logout of the last session.
    const single = newSession(user.id);
    await store.sessions.createSession(single);
    expect(await store.sessions.deleteSession(single.id)).toBe(true);
    expect((await userKeys()).sort()).toEqual(baseline);

    // Expiry: the sessions and then the index expire by themselves.
    const soon = Date.now() + 400;
    await store.sessions.createSession(newSession(other.id, { expiresAt: soon }));
    await store.sessions.createSession(
      newSession(other.id, { idleExpiresAt: soon, expiresAt: soon }),
    );
    expect(await store.client.exists(keys.sessionIndex(other.id))).toBe(1);
    await sleep(600);
    expect((await userKeys()).sort()).toEqual(baseline);
  });

  it('drops ids of sessions that are gone when listing, and deletes the emptied index', async () => {
    const kept = newSession(user.id);
    const evicted = newSession(user.id);
    await store.sessions.createSession(kept);
    await store.sessions.createSession(evicted);
    // As if Redis had evicted or expired it.
    await store.client.del(keys.session(evicted.id));

    expect(await store.sessions.listUserSessions(user.id, Date.now())).toEqual([kept]);
    expect(await store.client.zrange(keys.sessionIndex(user.id), '0', '-1')).toEqual([kept.id]);

    await store.client.del(keys.session(kept.id));
    expect(await store.sessions.listUserSessions(user.id, Date.now())).toEqual([]);
    expect(await store.client.exists(keys.sessionIndex(user.id))).toBe(0);
  });

  it('prunes index entries whose absolute expiry has passed when a session is added', async () => {
    const past = newSession(user.id, { expiresAt: Date.now() + 200 });
    await store.sessions.createSession(past);
    await sleep(300);
    const fresh = newSession(user.id);
    await store.sessions.createSession(fresh);

    expect(await store.client.zrange(keys.sessionIndex(user.id), '0', '-1')).toEqual([fresh.id]);
  });

  it('the sweep also removes swept sessions from their index', async () => {
    const now = Date.now();
    const doomed = newSession(user.id, { idleExpiresAt: now + HOUR });
    await store.sessions.createSession(doomed);

    expect(await store.sessions.deleteExpiredSessions(now + 2 * HOUR)).toBe(1);
    expect(await store.client.exists(keys.session(doomed.id))).toBe(0);
    expect(await store.client.exists(keys.sessionIndex(user.id))).toBe(0);
  });

  it('puts the keys one user touches together in one Cluster slot', async () => {
    await store.sessions.createSession(newSession(user.id));
    const limiter = store.rateLimits.createLimiter({ name: 'login-account', windowMs: MINUTE });
    await limiter.hit(user.email);

    const all = await keysUnder(store.client, prefix);
    // Every key is one the documented layout names.
    const known = new Set([
      keys.user(user.id),
      keys.sessionIndex(user.id),
      keys.email(user.email),
      keys.rateLimit('login-account', user.email),
    ]);
    const sessionKeys = all.filter((key) => key.startsWith(`${prefix}s:`));
    expect(sessionKeys).toHaveLength(1);
    expect(all.filter((key) => !known.has(key) && !sessionKeys.includes(key))).toEqual([]);
    expect(all).toHaveLength(known.size + 1);

    expect(calculateSlot(keys.sessionIndex(user.id))).toBe(calculateSlot(keys.user(user.id)));
    // The tag is the user id alone, so it does not depend on the prefix.
    expect(calculateSlot(keys.user(user.id))).toBe(calculateSlot(`{u:${user.id}}`));
    const otherUser = newUser();
    expect(
      calculateSlot.generateMulti([keys.user(otherUser.id), keys.sessionIndex(otherUser.id)]),
    ).not.toBe(-1);
  });

  it('refuses a duplicate user id without touching the first user or claiming the email', async () => {
    const twin = { ...newUser(), id: user.id };
    await expect(store.users.createUser(twin)).rejects.toThrow();
    expect(await store.users.getUserById(user.id)).toEqual(user);
    expect(await store.users.getUserByEmail(twin.email)).toBeNull();
    expect(await store.client.exists(keys.email(twin.email))).toBe(0);
  });

  it('setPasswordHash of an unknown user creates nothing', async () => {
    await store.users.setPasswordHash('user-missing', '$argon2id$x');
    expect(await store.client.exists(keys.user('user-missing'))).toBe(0);
  });

  it('deleteUser leaves no key of the user behind; repeating it later spares the email’s new owner', async () => {
    await store.sessions.createSession(newSession(user.id));
    await store.sessions.createSession(newSession(user.id));
    expect(await store.users.deleteUser(user.id)).toBe(true);
    expect(await keysUnder(store.client, prefix)).toEqual([]);

    // A repeated delete, after someone took the email: the newcomer keeps it.
    const newcomer = { ...newUser(), email: user.email };
    expect(await store.users.createUser(newcomer)).toBe(true);
    expect(await store.users.deleteUser(user.id)).toBe(false);
    expect(await store.users.getUserByEmail(user.email)).toEqual(newcomer);
  });

  it('close is idempotent', async () => {
    const { store: extra, cleanup: extraCleanup } = await sharedStore();
    await extraCleanup();
    await expect(extra.close()).resolves.toBeUndefined();
    await expect(extra.ping()).rejects.toThrow();
  });
});

describe('createRedisStore options', () => {
  it('refuses a key prefix that would change hash tags or SCAN patterns', async () => {
    await expect(
      createRedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: '{x}' }),
    ).rejects.toThrow(TypeError);
    await expect(createRedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'a*' })).rejects.toThrow(
      TypeError,
    );
  });

  it('refuses a non-positive timeout', async () => {
    await expect(
      createRedisStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 0 }),
    ).rejects.toThrow(TypeError);
  });

  it('rejects at start-up, quickly, when Redis cannot be reached', async () => {
    const started = performance.now();
    // Port 1 on loopback: nothing listens there.
    await expect(createRedisStore({ url: 'redis://127.0.0.1:1' })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
