/**
 * API.md v2 *Errors*, the codes that depend on server-side state: unauthenticated
 * (including a credential cookie sent twice), session_expired, token_reused,
 * rate_limited, store_unavailable and overloaded. (reauth_required and invalid_token:
 * see the note atop errors-request.test.ts.)
 */
import { REFRESH_COOKIE } from '@latchkey/core';
import { describe, expect, it } from 'vitest';
import {
  ABSOLUTE_MS,
  breakableStore,
  Client,
  credentialCookie,
  expectError,
  harness,
  IDLE_MS,
  MODES,
  PASSWORD,
  signedUp,
  uniqueEmail,
} from './harness.js';

const flip = (text: string, at: number) =>
  text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

describe.each(MODES)('%s mode: 401 unauthenticated', (mode) => {
  const name = credentialCookie(mode);

  // The credential of the GET routes: the session cookie, or (token mode) the bearer token.
  it.each([
    ['no credential at all', () => null],
    ['garbage', () => 'nonsense'],
    ['a forged signature', (v: string) => flip(v, v.length - 20)],
    ['a tampered payload', (v: string) => flip(v, 30)],
    ['a truncated value', (v: string) => v.slice(0, -1)],
  ])('%s', async (_, tamper) => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    const stranger = new Client(h);
    const credential = tamper((mode === 'token' ? client.accessToken : client.jar.get(name)) ?? '');
    if (mode === 'token') stranger.accessToken = credential;
    else if (credential !== null) stranger.jar.set(name, credential);
    for (const path of ['/api/me', '/auth/session', '/auth/sessions']) {
      const reply = await stranger.send('GET', path);
      expectError(reply, 'unauthenticated');
      expect(reply.cookies).toEqual([]);
    }
    if (mode === 'token') {
      // POST /auth/refresh: the same treatment of the refresh cookie.
      const refresh = tamper(client.jar.get(name) ?? '');
      const reply = await new Client(h).send('POST', '/auth/refresh', {
        headers: { cookie: refresh === null ? null : `${name}=${refresh}` },
      });
      expectError(reply, 'unauthenticated');
      if (refresh === null) expect(reply.cookies).toEqual([]);
    }
  });

  it('a credential cookie sent twice is 401 with no Set-Cookie, and the genuine one survives', async () => {
    const h = await harness(mode);
    const victim = await signedUp(h);
    const attacker = await signedUp(h);
    const mine = victim.client.jar.get(name) ?? '';
    const theirs = attacker.client.jar.get(name) ?? '';
    const routes =
      mode === 'token'
        ? ['/auth/refresh', '/auth/logout']
        : ['/auth/session', '/auth/logout', '/api/me'];
    for (const cookie of [
      `${name}=${theirs}; ${name}=${mine}`,
      `${name}=${mine}; ${name}=${mine}`,
    ]) {
      for (const path of routes) {
        const method = path === '/auth/session' || path === '/api/me' ? 'GET' : 'POST';
        const reply = await victim.client.send(method, path, { headers: { cookie } });
        expectError(reply, 'unauthenticated');
        expect(reply.cookies, `${method} ${path}`).toEqual([]);
      }
      const login = await new Client(h).send('POST', '/auth/login', {
        json: { email: victim.email, password: PASSWORD },
        headers: { cookie },
      });
      expectError(login, 'unauthenticated');
      expect(login.cookies).toEqual([]);
    }
    const next = await victim.client.send(
      mode === 'token' ? 'POST' : 'GET',
      mode === 'token' ? '/auth/refresh' : '/auth/session',
    );
    expect(next.status).toBe(200);
  });
});

describe.each(MODES)('%s mode: 401 session_expired (clock moved with the `now` option)', (mode) => {
  /** The request that proves the credential alive: the session cookie, or a refresh. */
  const use = (client: Client) =>
    mode === 'token' ? client.send('POST', '/auth/refresh') : client.send('GET', '/auth/session');

  it('after the idle timeout', async () => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    h.clock.advance(IDLE_MS - 1000);
    expect((await use(client)).status).toBe(200);
    h.clock.advance(IDLE_MS);
    const reply = await use(client);
    expectError(reply, 'session_expired');
    if (mode === 'token') expect(reply.cookie(REFRESH_COOKIE)?.attributes['max-age']).toBe('0');
  });

  it('after the absolute timeout, however active', async () => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    const step = 20 * 60_000;
    for (let elapsed = step; elapsed < ABSOLUTE_MS; elapsed += step) {
      h.clock.advance(step);
      expect((await use(client)).status, `after ${elapsed / 60_000} min`).toBe(200);
    }
    h.clock.advance(step);
    expectError(await use(client), 'session_expired');
  });

  if (mode === 'session') {
    it("on the app's own route (latchkey.authenticate) too", async () => {
      const h = await harness(mode);
      const { client } = await signedUp(h);
      h.clock.advance(IDLE_MS);
      expectError(await client.send('GET', '/api/me'), 'session_expired');
    });
  }
});

describe('token mode: 401 token_reused', () => {
  it('a rotated refresh token replayed after the retry window revokes the whole family', async () => {
    const h = await harness('token');
    const { client } = await signedUp(h);
    const stolen = client.jar.get(REFRESH_COOKIE);
    expect((await client.send('POST', '/auth/refresh')).status).toBe(200);
    h.clock.advance(10_001);
    const replay = await new Client(h).send('POST', '/auth/refresh', {
      headers: { cookie: `${REFRESH_COOKIE}=${stolen}` },
    });
    expectError(replay, 'token_reused');
    expect(replay.cookie(REFRESH_COOKIE)?.attributes['max-age']).toBe('0');
    // The family is gone: the legitimate holder's newer token and access token die too.
    expect((await client.send('POST', '/auth/refresh')).status).toBe(401);
    expectError(await client.send('GET', '/api/me'), 'unauthenticated');
  });
});

describe.each(MODES)('%s mode: 429 rate_limited', (mode) => {
  it('login: a stranger is locked out after rateLimit.loginLimit failures, with Retry-After; the owner’s browser is not', async () => {
    const h = await harness(mode, { rateLimit: { loginLimit: 3 } });
    const owner = await signedUp(h);
    const stranger = new Client(h, '203.0.113.50');
    const login = (client: Client, password: string) =>
      client.send('POST', '/auth/login', { json: { email: owner.email, password } });
    for (let i = 0; i < 3; i++)
      expectError(await login(stranger, 'guess number one two'), 'invalid_credentials');
    const locked = await login(stranger, PASSWORD);
    expectError(locked, 'rate_limited');
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    expect(locked.cookies).toEqual([]);
    expect((await login(owner.client, PASSWORD)).status).toBe(200);
  });

  it('register: rateLimit.registerLimit sign-ups per address, then 429 with Retry-After', async () => {
    const h = await harness(mode, { rateLimit: { registerLimit: 2 } });
    const register = (ip: string) =>
      new Client(h, ip).send('POST', '/auth/register', {
        json: { email: uniqueEmail(), password: PASSWORD },
      });
    expect((await register('192.0.2.99')).status).toBe(201);
    expect((await register('192.0.2.99')).status).toBe(201);
    const limited = await register('192.0.2.99');
    expectError(limited, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    expect(limited.cookies).toEqual([]);
    expect((await register('192.0.2.100')).status).toBe(201);
  });
});

describe.each(MODES)('%s mode: 503', (mode) => {
  it('store_unavailable when the store rejects: nobody is let in, the fault text never leaks', async () => {
    const { store, breakIt } = breakableStore();
    const h = await harness(mode, { store });
    const { client, email } = await signedUp(h);
    breakIt();
    const requests: [string, string, object?][] = [
      ['GET', '/api/me'],
      ['GET', '/auth/session'],
      ['GET', '/auth/sessions'],
      ['POST', '/auth/login', { email, password: PASSWORD }],
      ['POST', '/auth/register', { email: uniqueEmail(), password: PASSWORD }],
    ];
    if (mode === 'token') requests.push(['POST', '/auth/refresh']);
    for (const [method, path, json] of requests) {
      const reply = await client.send(method, path, json ? { json } : {});
      expectError(reply, 'store_unavailable');
      expect(reply.text, path).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|hunter2/);
      expect(reply.cookies).toEqual([]);
    }
    const session = await client.send('GET', '/auth/session');
    expect(JSON.parse(session.text)).toEqual({
      error: { code: 'store_unavailable', message: expect.any(String) },
    });
  });

  it('overloaded: a burst of sign-ups past password.hashQueueLimit, with Retry-After', async () => {
    const h = await harness(mode, {
      password: { hashConcurrency: 1, hashQueueLimit: 1 },
      rateLimit: { registerLimit: 1000 },
    });
    const replies = await Promise.all(
      Array.from({ length: 8 }, () =>
        new Client(h).send('POST', '/auth/register', {
          json: { email: uniqueEmail(), password: PASSWORD },
        }),
      ),
    );
    const refused = replies.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(replies.filter((r) => r.status === 201).length).toBe(8 - refused.length);
    expect(replies.filter((r) => r.status === 201).length).toBeGreaterThan(0);
    for (const reply of refused) {
      expectError(reply, 'overloaded');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(reply.cookies).toEqual([]);
    }
  });
});
