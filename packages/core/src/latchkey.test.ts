import { describe, expect, it } from 'vitest';
import { createLatchkey } from './latchkey.js';
import { SESSION_COOKIE } from './wire.js';
import { generateSigningJwk } from './token/keys.js';
import { createMemoryStore } from './stores/memory.js';
import type { LatchkeyStore } from './stores/types.js';

const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'correct horse battery staple';

function setup(store: LatchkeyStore = createMemoryStore()) {
  return createLatchkey({
    store,
    secrets: ['k'.repeat(32)],
    publicUrl: ORIGIN,
    logger: () => undefined,
  });
}

const post = (path: string, body: unknown) =>
  new Request(ORIGIN + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function signedInCookie(latchkey: ReturnType<typeof setup>) {
  const reply = await latchkey.handle(
    post('/auth/register', { email: 'ada@example.com', password: PASSWORD }),
  );
  expect(reply.status).toBe(201);
  return (reply.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** A store whose backend has gone away: every call rejects, as a driver would. */
function brokenAfterSetup(store: LatchkeyStore): { store: LatchkeyStore; breakIt: () => void } {
  let broken = false;
  const fault = () =>
    Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:6379 password=hunter2'));
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get: (obj, key, receiver) => {
        const value: unknown = Reflect.get(obj, key, receiver);
        return typeof value === 'function'
          ? (...args: unknown[]) =>
              broken ? fault() : (value as (...a: unknown[]) => unknown).apply(obj, args)
          : value;
      },
    });
  return {
    store: {
      ...store,
      users: wrap(store.users),
      sessions: wrap(store.sessions),
      rateLimits: { createLimiter: (o) => wrap(store.rateLimits.createLimiter(o)) },
      ping: () => (broken ? fault() : store.ping()),
    },
    breakIt: () => {
      broken = true;
    },
  };
}

describe('failing closed when the store is down', () => {
  it('a valid session cookie gets 503 store_unavailable, never a 200, and nothing leaks', async () => {
    const { store, breakIt } = brokenAfterSetup(createMemoryStore());
    const latchkey = setup(store);
    const cookie = await signedInCookie(latchkey);
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    breakIt();

    const reply = await latchkey.handle(
      new Request(`${ORIGIN}/auth/session`, { headers: { cookie } }),
    );
    expect(reply.status).toBe(503);
    const text = await reply.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'store_unavailable', message: expect.any(String) },
    });
    expect(text).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|hunter2/);

    const auth = await latchkey.authenticate(
      new Request(`${ORIGIN}/api/notes`, { headers: { cookie } }),
    );
    expect(auth).toMatchObject({ ok: false, error: { code: 'store_unavailable', status: 503 } });
    await expect(latchkey.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('login is refused with 503 when the rate-limit counters cannot be read', async () => {
    const { store, breakIt } = brokenAfterSetup(createMemoryStore());
    const latchkey = setup(store);
    await signedInCookie(latchkey);
    breakIt();
    const reply = await latchkey.handle(
      post('/auth/login', { email: 'ada@example.com', password: PASSWORD }),
    );
    expect(reply.status).toBe(503);
    expect(reply.headers.get('set-cookie')).toBeNull();
  });

  it('a working store answers normally (the control for the tests above)', async () => {
    const { store } = brokenAfterSetup(createMemoryStore());
    const latchkey = setup(store);
    const cookie = await signedInCookie(latchkey);
    const reply = await latchkey.handle(
      new Request(`${ORIGIN}/auth/session`, { headers: { cookie } }),
    );
    expect(reply.status).toBe(200);
  });
});

describe('createLatchkey', () => {
  it('refuses invalid options at creation, naming the key', () => {
    expect(() =>
      createLatchkey({ store: createMemoryStore(), secrets: ['short'], publicUrl: ORIGIN }),
    ).toThrow(/^secrets\[0\]/);
  });

  it('answers 404 not_found for paths outside the auth base path', async () => {
    const reply = await setup().handle(new Request(`${ORIGIN}/elsewhere`));
    expect(reply.status).toBe(404);
    expect(reply.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe("answering the app's own routes", () => {
  it('json() carries the security headers, the status and every cookie to set', async () => {
    const latchkey = setup();
    const plain = latchkey.json({ id: 'u1' });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(plain.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(plain.headers.get('x-frame-options')).toBe('DENY');
    expect(plain.headers.get('strict-transport-security')).toMatch(
      /^max-age=\d+; includeSubDomains$/,
    );
    expect(await plain.json()).toEqual({ id: 'u1' });

    const withCookies = latchkey.json(
      { ok: true },
      { status: 201, setCookies: ['a=1; Path=/', 'b=2; Path=/'] },
    );
    expect(withCookies.status).toBe(201);
    expect(withCookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(withCookies.headers.get('x-content-type-options')).toBe('nosniff');
    // Cookies for one response never leak into the next.
    expect(latchkey.json({}).headers.getSetCookie()).toEqual([]);
  });

  it('secure() adds the headers to any response and keeps those the app set', () => {
    const latchkey = setup();
    const response = latchkey.secure(
      new Response('hi', { headers: { 'content-security-policy': "default-src 'none'" } }),
    );
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('client addresses behind proxies', () => {
  const register = (latchkey: ReturnType<typeof createLatchkey>, xff: string) =>
    latchkey.handle(
      new Request(`${ORIGIN}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
        body: JSON.stringify({ email: `p${Math.random()}@example.com`, password: PASSWORD }),
      }),
      { remoteAddress: '10.0.0.2' },
    );

  const recordedIp = async (latchkey: ReturnType<typeof createLatchkey>, xff: string) => {
    const reply = await register(latchkey, xff);
    const cookie = (reply.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const list = await latchkey.handle(
      new Request(`${ORIGIN}/auth/sessions`, { headers: { cookie } }),
    );
    return ((await list.json()) as { sessions: { ip: string }[] }).sessions[0]?.ip;
  };

  it('ignores X-Forwarded-For unless proxies are trusted (a client can write any value there)', async () => {
    expect(await recordedIp(setup(), '203.0.113.7')).toBe('10.0.0.2');
  });

  it('takes the address the trusted proxy appended, not what the client claimed', async () => {
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: ORIGIN,
      trustedProxies: 1,
      logger: () => undefined,
    });
    expect(await recordedIp(latchkey, 'spoofed-by-client, 198.51.100.4')).toBe('198.51.100.4');
  });
});

describe('a bounded hashing queue (sign-up flood)', () => {
  it('answers 503 overloaded with Retry-After when full, and still serves sign-ins of known browsers', async () => {
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: ORIGIN,
      logger: () => undefined,
      password: { hashConcurrency: 1, hashQueueLimit: 4 },
      rateLimit: { registerLimit: 1000 },
    });
    const owner = await latchkey.handle(
      post('/auth/register', { email: 'owner@example.com', password: PASSWORD }),
    );
    const device = owner.headers
      .getSetCookie()
      .map((line) => line.split(';')[0] ?? '')
      .find((pair) => pair.startsWith('__Host-Http-device='));
    expect(device).toBeDefined();

    const flood = Array.from({ length: 30 }, (_, i) =>
      latchkey.handle(post('/auth/register', { email: `bot${i}@example.com`, password: PASSWORD })),
    );
    const ownerLogin = new Request(ORIGIN + '/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: device ?? '' },
      body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
    });
    const [signIn, ...signUps] = await Promise.all([latchkey.handle(ownerLogin), ...flood]);
    expect(signIn.status).toBe(200);
    const refused = signUps.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(15);
    expect(signUps.filter((r) => r.status === 201).length).toBe(30 - refused.length);
    for (const reply of refused) {
      expect(await reply.json()).toMatchObject({ error: { code: 'overloaded' } });
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('token mode: access tokens and their sessions', () => {
  async function tokenSetup(statelessAccess: boolean) {
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: ORIGIN,
      mode: 'token',
      token: { keys: [await generateSigningJwk('EdDSA')], statelessAccess },
      logger: () => undefined,
    });
    const reply = await latchkey.handle(
      post('/auth/register', { email: 'ada@example.com', password: PASSWORD }),
    );
    const { accessToken } = (await reply.json()) as { accessToken: string };
    const refresh = (reply.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const api = new Request(ORIGIN + '/api/me', {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const logout = new Request(ORIGIN + '/auth/logout', {
      method: 'POST',
      headers: { cookie: refresh },
    });
    return { latchkey, api, logout };
  }

  it('by default a token is refused once its session is revoked', async () => {
    const { latchkey, api, logout } = await tokenSetup(false);
    expect((await latchkey.authenticate(api.clone())).ok).toBe(true);
    expect((await latchkey.handle(logout)).status).toBe(204);
    expect(await latchkey.authenticate(api.clone())).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
  });

  it('token.statelessAccess trades that for no store read: the token lives until its exp', async () => {
    const { latchkey, api, logout } = await tokenSetup(true);
    expect((await latchkey.handle(logout)).status).toBe(204);
    expect((await latchkey.authenticate(api.clone())).ok).toBe(true);
  });
});
