import { beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createSigner } from '../crypto.js';
import { createSessionStrategy } from '../session.js';
import { createMemoryStore } from '../stores/memory.js';
import type { LatchkeyStore } from '../stores/types.js';
import { createRefreshStrategy, type RefreshStrategy } from './refresh.js';

const client = { userAgent: 'ua', ip: '192.0.2.9' };
const secrets = ['r'.repeat(32)];

describe('refresh families', () => {
  let now: number;
  let store: LatchkeyStore;
  let refresh: RefreshStrategy;
  let start: () => Promise<{ id: string; cookie: string }>;

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 22);
    store = createMemoryStore();
    await store.users.createUser({
      id: 'u1',
      email: 'a@example.com',
      name: null,
      passwordHash: 'x',
      createdAt: now,
      emailVerifiedAt: null,
      mfa: [],
    });
    const config = resolveConfig({
      store,
      secrets,
      publicUrl: 'http://localhost',
      session: { idleTimeout: '30m', absoluteTimeout: '2h' },
      now: () => now,
    });
    const signer = createSigner(secrets);
    refresh = createRefreshStrategy(store, signer, { ...config, retryWindowMs: 10_000 });
    const families = refresh;
    start = async () => {
      const { session, cookie } = await families.create('u1', client);
      return { id: session.id, cookie };
    };
  });

  it('rotates on every use: a new token each time, same family', async () => {
    const { id, cookie } = await start();
    const first = await refresh.rotate(cookie);
    expect(first).toMatchObject({ ok: true, family: { id } });
    const next = first.ok ? first.cookie : '';
    expect(next).not.toBe(cookie);
    const second = await refresh.rotate(next);
    expect(second).toMatchObject({ ok: true, family: { id } });
  });

  it('a replay of the just-rotated token inside the retry window gets the same successor, rotating nothing', async () => {
    const { id, cookie } = await start();
    const rotated = await refresh.rotate(cookie);
    const after = await store.sessions.getSession(id);
    now += 5_000;
    const retry = await refresh.rotate(cookie);
    expect(retry).toMatchObject({ ok: true, family: { id } });
    expect(retry.ok && rotated.ok && retry.cookie === rotated.cookie).toBe(true);
    expect(await store.sessions.getSession(id)).toEqual(after);
    // The lost response's token is the current one: usable after the window too.
    now += 60_000;
    expect((await refresh.rotate(rotated.ok ? rotated.cookie : '')).ok).toBe(true);
  });

  it('a replay after the window revokes the whole family (token_reused)', async () => {
    const { id, cookie } = await start();
    const rotated = await refresh.rotate(cookie);
    now += 10_001;
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
    expect(await store.sessions.getSession(id)).toBeNull();
    // The thief's or the user's newer token is dead too.
    expect(await refresh.rotate(rotated.ok ? rotated.cookie : '')).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('a token two rotations old is a replay even inside the window, and revokes the family', async () => {
    const { id, cookie } = await start();
    const one = await refresh.rotate(cookie);
    const two = await refresh.rotate(one.ok ? one.cookie : '');
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
    expect(await store.sessions.getSession(id)).toBeNull();
    expect(await refresh.rotate(two.ok ? two.cookie : '')).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
  });

  it('the previous token inside the window answers with the current one, not a rotation', async () => {
    const { id, cookie } = await start();
    const one = await refresh.rotate(cookie);
    const two = await refresh.rotate(one.ok ? one.cookie : '');
    const after = await store.sessions.getSession(id);
    now += 1_000;
    const retry = await refresh.rotate(one.ok ? one.cookie : '');
    expect(retry.ok && two.ok && retry.cookie === two.cookie).toBe(true);
    expect(await store.sessions.getSession(id)).toEqual(after);
  });

  it('the retry window never grows by retrying', async () => {
    const { cookie } = await start();
    await refresh.rotate(cookie);
    now += 8_000;
    expect((await refresh.rotate(cookie)).ok).toBe(true);
    now += 8_000; // 16 s after the original rotation
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
  });

  it('two concurrent rotations of one cookie both succeed with the same cookie', async () => {
    const { id, cookie } = await start();
    const [a, b] = await Promise.all([refresh.rotate(cookie), refresh.rotate(cookie)]);
    expect(a).toMatchObject({ ok: true, family: { id } });
    expect(b).toMatchObject({ ok: true, family: { id } });
    expect(a.ok && b.ok && a.cookie === b.cookie).toBe(true);
  });

  it('of many concurrent refreshes with the same token, exactly one rotates it (CAS); all get its successor', async () => {
    const { id, cookie } = await start();
    let applied = 0;
    const rotateSecret = store.sessions.rotateSecret.bind(store.sessions);
    store.sessions.rotateSecret = async (...args) => {
      const ok = await rotateSecret(...args);
      if (ok) applied += 1;
      return ok;
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh.rotate(cookie)));
    expect(results.every((r) => r.ok)).toBe(true);
    const cookies = new Set(results.map((r) => (r.ok ? r.cookie : '')));
    expect(cookies.size).toBe(1);
    expect(applied).toBe(1);
    // After the retry window every answer still refreshes: none is treated as a replay.
    now += 60_000;
    const [answered = ''] = cookies;
    const next = await refresh.rotate(answered);
    expect(next).toMatchObject({ ok: true, family: { id } });
    // ...and once it has, the original token is a stale replay.
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
    expect(await store.sessions.getSession(id)).toBeNull();
  });

  it('racing refreshes one generation on: each answer stays usable after the window', async () => {
    const { id, cookie } = await start();
    const first = await Promise.all(Array.from({ length: 3 }, () => refresh.rotate(cookie)));
    const s1 = first[0]?.ok ? first[0].cookie : '';
    const second = await Promise.all(
      [...first, ...first].map((r) => refresh.rotate(r.ok ? r.cookie : '')),
    );
    expect(second.every((r) => r.ok)).toBe(true);
    now += 60_000;
    // Each tab uses the answer it got, one after the other: all are 200.
    const third = [];
    for (const r of second) third.push(await refresh.rotate(r.ok ? r.cookie : ''));
    expect(third.every((r) => r.ok && r.family.id === id)).toBe(true);
    expect(new Set(third.map((r) => (r.ok ? r.cookie : ''))).size).toBe(1);
    // The first race's answer is now two generations back: a replay.
    expect(await refresh.rotate(s1)).toMatchObject({ ok: false, reason: 'reused' });
    expect(await store.sessions.getSession(id)).toBeNull();
  });

  it('the successor is keyed: derived from the raw token and the first server secret', async () => {
    const { id, cookie } = await start();
    const mine = await refresh.rotate(cookie);
    const [, , signature] = cookie.split('.');
    const [, successor] = mine.ok ? mine.cookie.split('.') : [];
    expect(successor).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(successor).not.toBe(signature);
    // A server signing with another first secret (a key rollout) derives another
    // successor: its retry rotates again, but the window stays the original one.
    const rolled = ['s'.repeat(32), ...secrets];
    const config = resolveConfig({
      store,
      secrets: rolled,
      publicUrl: 'http://localhost',
      now: () => now,
    });
    const other = createRefreshStrategy(store, createSigner(rolled), {
      ...config,
      retryWindowMs: 10_000,
    });
    now += 1_000;
    const retry = await other.rotate(cookie);
    expect(retry).toMatchObject({ ok: true, family: { id } });
    expect(retry.ok && mine.ok && retry.cookie.split('.')[1] !== mine.cookie.split('.')[1]).toBe(
      true,
    );
    expect((await other.rotate(cookie)).ok).toBe(true);
    now += 9_001;
    expect(await other.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
  });

  it('concurrent refreshes after the window: none succeeds with a stale token', async () => {
    const { cookie } = await start();
    await refresh.rotate(cookie);
    now += 60_000;
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh.rotate(cookie)));
    expect(results.some((r) => r.ok)).toBe(false);
  });

  it('expires with the family: idle and absolute', async () => {
    const idle = await start();
    now += 30 * 60_000;
    expect(await refresh.rotate(idle.cookie)).toMatchObject({ ok: false, reason: 'expired' });
    const absolute = await start();
    let current = absolute.cookie;
    for (let i = 0; i < 11; i++) {
      now += 10 * 60_000;
      const r = await refresh.rotate(current);
      expect(r.ok).toBe(true);
      current = r.ok ? r.cookie : '';
    }
    now += 10 * 60_000; // 2 h after creation
    expect(await refresh.rotate(current)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses forged, missing and session-purpose values', async () => {
    const { cookie } = await start();
    expect(await refresh.rotate(null)).toEqual({ ok: false, reason: 'missing' });
    expect(await refresh.rotate('garbage')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await refresh.rotate(cookie.slice(0, -2) + 'AA')).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    const config = resolveConfig({ store, secrets, publicUrl: 'http://localhost', now: () => now });
    const session = await createSessionStrategy(store, createSigner(secrets), config).create(
      'u1',
      client,
    );
    expect(await refresh.rotate(session.cookie)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('a token signed by another key, or of an unknown family, is invalid and revokes nothing', async () => {
    const { id, cookie } = await start();
    const foreign = ['f'.repeat(32)];
    const config = resolveConfig({
      store,
      secrets: foreign,
      publicUrl: 'http://localhost',
      now: () => now,
    });
    const forged = await createRefreshStrategy(createMemoryStore(), createSigner(foreign), {
      ...config,
      retryWindowMs: 10_000,
    }).create('u1', client);
    const forgedForFamily = `${id}.${forged.cookie.split('.')[1] ?? ''}.${forged.cookie.split('.')[2] ?? ''}`;
    expect(await refresh.rotate(forged.cookie)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await refresh.rotate(forgedForFamily)).toMatchObject({ ok: false, reason: 'invalid' });
    const unknown = await createRefreshStrategy(createMemoryStore(), createSigner(secrets), {
      ...config,
      retryWindowMs: 10_000,
    }).create('u1', client);
    expect(await refresh.rotate(unknown.cookie)).toMatchObject({ ok: false, reason: 'invalid' });
    expect((await refresh.rotate(cookie)).ok).toBe(true);
  });

  it('identifies the family of the current or just-rotated token only', async () => {
    const { id, cookie } = await start();
    expect((await refresh.identify(cookie))?.id).toBe(id);
    const one = await refresh.rotate(cookie);
    const two = await refresh.rotate(one.ok ? one.cookie : '');
    expect((await refresh.identify(two.ok ? two.cookie : ''))?.id).toBe(id);
    expect(await refresh.identify(cookie)).toBeNull();
  });
});
