import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from './config.js';
import { createSigner } from './crypto.js';
import { createSessionStrategy, type SessionStrategy } from './session.js';
import { createMemoryStore } from './stores/memory.js';
import type { LatchkeyStore } from './stores/types.js';

const MIN = 60_000;
const client = { userAgent: 'test-agent', ip: '192.0.2.1' };

const timing = () => ({
  idleTimeoutMs: 30 * MIN,
  absoluteTimeoutMs: 120 * MIN,
  touchIntervalMs: MIN,
});

describe('session strategy', () => {
  let now: number;
  let store: LatchkeyStore;
  let sessions: SessionStrategy;
  const secrets = ['k'.repeat(32)];

  beforeEach(async () => {
    now = Date.UTC(2026, 0, 1);
    store = createMemoryStore();
    await store.users.createUser({
      id: 'u1',
      email: 'ada@example.com',
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
      session: { idleTimeout: '30m', absoluteTimeout: '2h', touchInterval: '1m' },
      now: () => now,
    });
    sessions = createSessionStrategy(store, createSigner(secrets), config);
  });

  it('stores only the hash of the 256-bit secret, under a public id', async () => {
    const { session, cookie } = await sessions.create('u1', client);
    const [id, secret] = cookie.split('.');
    expect(id).toBe(session.id);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await store.sessions.getSession(session.id);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored).toMatchObject({ userId: 'u1', userAgent: 'test-agent', ip: '192.0.2.1' });
  });

  it('validates its cookie and refuses any altered one', async () => {
    const { cookie } = await sessions.create('u1', client);
    expect((await sessions.validate(cookie)).ok).toBe(true);
    const [id, secret, sig] = cookie.split('.') as [string, string, string];
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const forged of [
      `${id}.${flip(secret)}.${sig}`,
      `${flip(id)}.${secret}.${sig}`,
      `${id}.${secret}.${flip(sig)}`,
      cookie.slice(0, -1),
      `${id}.${secret}`,
      '',
      'garbage',
    ]) {
      expect(await sessions.validate(forged)).toMatchObject({ ok: false, reason: 'invalid' });
    }
    expect(await sessions.validate(null)).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a correctly re-signed cookie whose secret does not match the stored hash', async () => {
    const { session } = await sessions.create('u1', client);
    const signer = createSigner(secrets);
    const guessed = 'A'.repeat(43);
    const forged = `${session.id}.${guessed}.${await signer.sign('session', `${session.id}.${guessed}`)}`;
    expect(await sessions.validate(forged)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('slides the idle expiry, writing at most once per touch interval', async () => {
    const { cookie, session } = await sessions.create('u1', client);
    const touch = vi.spyOn(store.sessions, 'touchSession');
    now += 20_000;
    await sessions.validate(cookie);
    await sessions.validate(cookie);
    expect(touch).not.toHaveBeenCalled();
    now += 45_000;
    const result = await sessions.validate(cookie);
    expect(touch).toHaveBeenCalledTimes(1);
    expect(result.ok && result.session.idleExpiresAt).toBe(now + 30 * MIN);
    expect(result.ok && result.session.idleExpiresAt).toBeGreaterThan(session.idleExpiresAt);
  });

  it('expires after the idle timeout without use', async () => {
    const { cookie, session } = await sessions.create('u1', client);
    now += 30 * MIN;
    expect(await sessions.validate(cookie)).toMatchObject({ ok: false, reason: 'expired' });
    expect(await store.sessions.getSession(session.id)).toBeNull();
  });

  it('keeps an active session alive but never past the absolute timeout', async () => {
    const { cookie } = await sessions.create('u1', client);
    for (let t = 0; t < 119; t += 10) {
      now += 10 * MIN;
      if (t + 10 < 120) expect((await sessions.validate(cookie)).ok).toBe(true);
    }
    now = Date.UTC(2026, 0, 1) + 120 * MIN;
    expect(await sessions.validate(cookie)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('asks to re-issue a cookie signed with an older key, and keeps the same session', async () => {
    const { cookie, session } = await sessions.create('u1', client);
    const rotatedSecrets = ['n'.repeat(32), ...secrets];
    const config = resolveConfig({
      store,
      secrets: rotatedSecrets,
      publicUrl: 'http://localhost',
      now: () => now,
    });
    const rotated = createSessionStrategy(store, createSigner(rotatedSecrets), config);
    const result = await rotated.validate(cookie);
    expect(result.ok && result.renewedCookie).toBeTruthy();
    const renewed = result.ok ? result.renewedCookie : null;
    expect(renewed?.startsWith(`${session.id}.`)).toBe(true);
    expect(await rotated.validate(renewed)).toMatchObject({ ok: true, renewedCookie: null });
  });

  it('binds the CSRF token to one session', async () => {
    const a = await sessions.create('u1', client);
    const b = await sessions.create('u1', client);
    const token = await sessions.csrfToken(a.session);
    expect(await sessions.verifyCsrfToken(a.session, token)).toBe(true);
    expect(await sessions.verifyCsrfToken(b.session, token)).toBe(false);
    expect(await sessions.verifyCsrfToken(a.session, null)).toBe(false);
    expect(await sessions.verifyCsrfToken(a.session, 'x')).toBe(false);
  });

  it('signs a session’s CSRF token once, and a token of an older key still verifies', async () => {
    const signer = createSigner(secrets);
    const sign = vi.spyOn(signer, 'sign');
    const strategy = createSessionStrategy(store, signer, { ...timing(), now: () => now });
    const { session } = await strategy.create('u1', client);
    sign.mockClear();
    const token = await strategy.csrfToken(session);
    expect(await strategy.csrfToken(session)).toBe(token);
    expect(await strategy.verifyCsrfToken(session, token)).toBe(true);
    expect(sign).toHaveBeenCalledTimes(1);
    // After a key rotation the new key signs, and the old key's token is still good.
    const rotated = createSessionStrategy(store, createSigner(['n'.repeat(32), ...secrets]), {
      ...timing(),
      now: () => now,
    });
    const fresh = await rotated.csrfToken(session);
    expect(fresh).not.toBe(token);
    expect(await rotated.verifyCsrfToken(session, token)).toBe(true);
    expect(await rotated.verifyCsrfToken(session, fresh)).toBe(true);
    expect(await rotated.verifyCsrfToken({ ...session, secretHash: 'other' }, fresh)).toBe(false);
  });

  it('drops a session whose user no longer exists', async () => {
    const { cookie } = await sessions.create('ghost', client);
    expect(await sessions.validate(cookie)).toMatchObject({ ok: false, reason: 'invalid' });
  });
});
