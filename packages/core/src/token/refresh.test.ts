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
    });
    const config = resolveConfig({
      store,
      secrets,
      publicUrl: 'http://localhost',
      session: { idleTimeout: '30m', absoluteTimeout: '2h' },
      now: () => now,
    });
    const signer = createSigner(secrets);
    const families = createSessionStrategy(config, store, signer, 'refresh');
    refresh = createRefreshStrategy(config, store, signer, 10_000);
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

  it('a replay of the just-rotated token inside the retry window gets a new pair from the same family', async () => {
    const { id, cookie } = await start();
    const rotated = await refresh.rotate(cookie);
    now += 5_000;
    const retry = await refresh.rotate(cookie);
    expect(retry).toMatchObject({ ok: true, family: { id } });
    // The retry's token is now current; the one from the lost response is orphaned.
    const current = retry.ok ? retry.cookie : '';
    expect((await refresh.rotate(current)).ok).toBe(true);
    expect(rotated.ok).toBe(true);
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

  it('a token two rotations old is a replay even inside the window', async () => {
    const { cookie } = await start();
    const one = await refresh.rotate(cookie);
    await refresh.rotate(one.ok ? one.cookie : '');
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
  });

  it('the retry window never grows by retrying', async () => {
    const { cookie } = await start();
    await refresh.rotate(cookie);
    now += 8_000;
    expect((await refresh.rotate(cookie)).ok).toBe(true);
    now += 8_000; // 16 s after the original rotation
    expect(await refresh.rotate(cookie)).toMatchObject({ ok: false, reason: 'reused' });
  });

  it('of many concurrent refreshes with the same token, exactly one rotates it (CAS); others ride the retry window', async () => {
    const { cookie } = await start();
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh.rotate(cookie)));
    expect(results.every((r) => r.ok)).toBe(true);
    const cookies = new Set(results.map((r) => (r.ok ? r.cookie : '')));
    expect(cookies.size).toBe(10);
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
    const session = await createSessionStrategy(config, store, createSigner(secrets)).create(
      'u1',
      client,
    );
    expect(await refresh.rotate(session.cookie)).toMatchObject({ ok: false, reason: 'invalid' });
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
