/**
 * The cases every framework binding (Express, Fastify, the examples) must pass,
 * over real HTTP. Not a test file itself: `express.test.ts`, `fastify.test.ts` and
 * `examples/examples.test.ts` call `describeBinding` with a function that serves
 * a Latchkey instance on 127.0.0.1 port 0 with this app:
 *
 * - the auth routes under `latchkey.config.basePath`, the security headers on everything;
 * - `GET /api/me` behind `requireAuth`, answering `{ id }`, and `POST /api/me` (or
 *   `unsafePath`) behind it, answering 2xx to a JSON body `{ "text": "hi" }`;
 * - `GET /api/cached` behind `requireAuth`, setting `Cache-Control: private, max-age=60`;
 * - `GET /public` without authentication, answering `{ ok: true }`;
 * - `GET /own-csp` without authentication, setting its own `Content-Security-Policy: OWN_CSP`.
 */
import {
  createLatchkey,
  fail,
  generateSigningJwk,
  securityHeaders,
  type Latchkey,
  type LatchkeyOptions,
  type LatchkeyStore,
  type SigningJwk,
} from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';

export const OWN_CSP = "default-src 'none'; frame-ancestors 'none'";
export const PASSWORD = 'correct horse battery staple';
const ORIGIN = 'http://localhost';
const OLD_SECRET = 'o'.repeat(32);
const NEW_SECRET = 'n'.repeat(32);

export interface Served {
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}
export type Serve = (latchkey: Latchkey) => Promise<Served>;

export interface SuiteOptions {
  /** The unsafe route behind `requireAuth` (default `/api/me`). */
  unsafePath?: string;
  /** Only the core cases (register, `/api/me`, 401, CSRF): for apps without the other routes. */
  coreOnly?: boolean;
  /**
   * Whether the framework's own 404 page keeps Latchkey's Content-Security-Policy.
   * Express's finalhandler replaces it with its stricter `default-src 'none'`.
   */
  notFoundCsp?: 'ours' | "default-src 'none'";
}

let signingKey: SigningJwk | undefined;

/** A Latchkey instance for tests: a memory store, no log lines. */
export function testLatchkey(
  options: Partial<LatchkeyOptions> & { store?: LatchkeyStore } = {},
): Latchkey {
  const mode = options.mode ?? 'session';
  if (mode === 'token' && !signingKey) throw new Error('call loadSigningKey() in beforeAll');
  return createLatchkey({
    store: createMemoryStore(),
    secrets: [NEW_SECRET],
    publicUrl: ORIGIN,
    logger: () => undefined,
    ...(mode === 'token' ? { token: { keys: [signingKey as SigningJwk] } } : {}),
    ...options,
  });
}

export async function loadSigningKey(): Promise<void> {
  signingKey ??= await generateSigningJwk('EdDSA');
}

/** Serves the app and closes it when the test ends. */
export async function serveForTest(serve: Serve, latchkey: Latchkey): Promise<string> {
  const served = await serve(latchkey);
  onTestFinished(() => served.close());
  return served.base;
}

export const cookieOf = (response: Response, name: string): string | undefined =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith(`${name}=`));

export async function register(base: string, email = 'ada@example.com') {
  const response = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, name: 'Ada' }),
  });
  const body = (await response.json()) as { user: { id: string }; accessToken?: string };
  return { response, body };
}

/** Every security header of the config, with its value (CSP optionally another). */
export function expectSecured(
  response: Response,
  latchkey: Latchkey,
  csp: string = latchkey.config.contentSecurityPolicy,
): void {
  for (const [name, value] of Object.entries(securityHeaders(latchkey.config))) {
    const expected = name === 'Content-Security-Policy' ? csp : value;
    expect(response.headers.get(name), name).toBe(expected);
  }
}

/**
 * The one JSON error shape with its status, `no-store` and the security headers.
 * The message is the code's generic one unless `anyMessage` (Latchkey words some,
 * such as a malformed body, more precisely).
 */
export async function expectError(
  response: Response,
  latchkey: Latchkey,
  status: number,
  code: string,
  anyMessage = false,
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expectSecured(response, latchkey);
  const message = anyMessage ? expect.any(String) : fail(code as never).message;
  expect(JSON.parse(await response.text())).toEqual({ error: { code, message } });
}

/** The shared cases, in session mode and token mode. */
export function describeBinding(name: string, serve: Serve, options: SuiteOptions = {}): void {
  const unsafe = (base: string, headers: Record<string, string>) =>
    fetch(`${base}${options.unsafePath ?? '/api/me'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ text: 'hi' }),
    });

  describe(`${name}: session mode`, () => {
    it('registers through the auth routes, then a protected route answers the user', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const { response, body } = await register(base);
      expect(response.status).toBe(201);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expectSecured(response, latchkey);
      const cookie = cookieOf(response, '__Host-Http-session');
      expect(cookie).toBeDefined();

      const me = await fetch(`${base}/api/me`, { headers: { cookie: cookie! } });
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ id: body.user.id });
      expect(me.headers.get('cache-control')).toBe('no-store');
      expectSecured(me, latchkey);
      // Nothing to re-sign: no cookie on an ordinary authenticated answer.
      expect(me.headers.getSetCookie()).toEqual([]);
    });

    it('answers a request without a credential 401 with the JSON error and the headers', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      await expectError(await fetch(`${base}/api/me`), latchkey, 401, 'unauthenticated');
      const forged = await fetch(`${base}/api/me`, {
        headers: { cookie: '__Host-Http-session=forged.value' },
      });
      await expectError(forged, latchkey, 401, 'unauthenticated');
    });

    it('refuses an unsafe request without the X-CSRF-Token header (403), takes it with', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const cookie = cookieOf((await register(base)).response, '__Host-Http-session')!;
      await expectError(await unsafe(base, { cookie }), latchkey, 403, 'csrf_failed');

      // The token comes from GET /auth/session, through the same routes.
      const session = await fetch(`${base}/auth/session`, { headers: { cookie } });
      expect(session.status).toBe(200);
      const { csrfToken } = (await session.json()) as { csrfToken: string };
      const accepted = await unsafe(base, { cookie, 'x-csrf-token': csrfToken });
      expect(accepted.ok).toBe(true);

      // Logout (a POST with no body) goes through the routes too, and ends the session.
      const logout = await fetch(`${base}/auth/logout`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrfToken },
      });
      expect(logout.status).toBe(204);
      expect((await fetch(`${base}/api/me`, { headers: { cookie } })).status).toBe(401);
    });

    it('sends a cookie re-signed under the new key on the protected answer', async () => {
      const store = createMemoryStore();
      const before = testLatchkey({ store, secrets: [OLD_SECRET] });
      const reply = await before.handle(
        new Request(`${ORIGIN}/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'rotate@example.com', password: PASSWORD }),
        }),
      );
      expect(reply.status).toBe(201);
      const old = cookieOf(reply, '__Host-Http-session')!;

      // The secret rotated: the new one signs, the old one still verifies.
      const latchkey = testLatchkey({ store, secrets: [NEW_SECRET, OLD_SECRET] });
      const base = await serveForTest(serve, latchkey);
      const me = await fetch(`${base}/api/me`, { headers: { cookie: old } });
      expect(me.status).toBe(200);
      const renewed = cookieOf(me, '__Host-Http-session');
      expect(renewed).toBeDefined();
      expect(renewed).not.toBe(old);
      expect(me.headers.getSetCookie()[0]).toMatch(/HttpOnly/);
      // The re-signed cookie works where the old key is gone.
      const after = testLatchkey({ store, secrets: [NEW_SECRET] });
      expect(
        (await after.authenticate(new Request(ORIGIN, { headers: { cookie: renewed! } }))).ok,
      ).toBe(true);
      expect((await after.authenticate(new Request(ORIGIN, { headers: { cookie: old } }))).ok).toBe(
        false,
      );
    });

    it("passes the error's status and headers on (429 with Retry-After)", async () => {
      const real = testLatchkey();
      const latchkey: Latchkey = {
        ...real,
        authenticate: () =>
          Promise.resolve({
            ok: false,
            error: fail('rate_limited', { headers: { 'Retry-After': '7' } }),
          }),
      };
      const base = await serveForTest(serve, latchkey);
      const response = await fetch(`${base}/api/me`);
      expect(response.headers.get('retry-after')).toBe('7');
      await expectError(response, latchkey, 429, 'rate_limited');
    });

    it('answers a fault thrown by authenticate with 500 JSON, no stack, no message', async () => {
      const real = testLatchkey();
      const latchkey: Latchkey = {
        ...real,
        authenticate: () => Promise.reject(new TypeError('secret detail at line 42')),
      };
      const base = await serveForTest(serve, latchkey);
      // A binding may log the fault (Express: console.error); keep the output clean.
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      onTestFinished(() => quiet.mockRestore());
      const response = await fetch(`${base}/api/me`);
      const text = await response.clone().text();
      expect(text).not.toMatch(/secret detail|TypeError|at /);
      await expectError(response, latchkey, 500, 'internal_error');
    });

    if (options.coreOnly) return;

    it('puts the security headers on app answers and keeps a header the app set', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const open = await fetch(`${base}/public`);
      expect(open.status).toBe(200);
      expectSecured(open, latchkey);
      // Not an authenticated answer: Latchkey says nothing about its caching.
      expect(open.headers.get('cache-control')).not.toBe('no-store');

      const own = await fetch(`${base}/own-csp`);
      expect(own.status).toBe(200);
      expectSecured(own, latchkey, OWN_CSP);
    });

    it('puts the security headers on 404s, outside and under the auth routes', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const missing = await fetch(`${base}/no/such/page`);
      expect(missing.status).toBe(404);
      const csp = options.notFoundCsp ?? 'ours';
      expectSecured(missing, latchkey, csp === 'ours' ? undefined : csp);

      const auth = await fetch(`${base}/auth/no-such-route`);
      await expectError(auth, latchkey, 404, 'not_found');
    });

    it("keeps a protected route's own Cache-Control", async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const cookie = cookieOf((await register(base)).response, '__Host-Http-session')!;
      const cached = await fetch(`${base}/api/cached`, { headers: { cookie } });
      expect(cached.status).toBe(200);
      expect(cached.headers.get('cache-control')).toBe('private, max-age=60');
    });

    it('gives the auth routes the raw body: a malformed or oversized one is refused by Latchkey', async () => {
      const latchkey = testLatchkey();
      const base = await serveForTest(serve, latchkey);
      const malformed = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email": ',
      });
      await expectError(malformed, latchkey, 400, 'invalid_request', true);
      const big = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(64 * 1024) }),
      });
      await expectError(big, latchkey, 413, 'payload_too_large', true);
      const form = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=a%40example.com',
      });
      await expectError(form, latchkey, 415, 'unsupported_media_type', true);
    });
  });

  describe(`${name}: token mode`, () => {
    beforeAll(loadSigningKey);

    it('registers, then a bearer access token opens the protected route', async () => {
      const latchkey = testLatchkey({ mode: 'token' });
      const base = await serveForTest(serve, latchkey);
      const { response, body } = await register(base);
      expect(response.status).toBe(201);
      expect(cookieOf(response, '__Host-Http-refresh')).toBeDefined();
      const authorization = `Bearer ${body.accessToken!}`;

      const me = await fetch(`${base}/api/me`, { headers: { authorization } });
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ id: body.user.id });
      expect(me.headers.get('cache-control')).toBe('no-store');
      expectSecured(me, latchkey);

      // No X-CSRF-Token in token mode; a foreign Origin is still refused.
      expect((await unsafe(base, { authorization })).ok).toBe(true);
      const foreign = await unsafe(base, { authorization, origin: 'https://evil.example' });
      await expectError(foreign, latchkey, 403, 'csrf_failed');
    });

    it('answers 401 without a token and refreshes through the routes', async () => {
      const latchkey = testLatchkey({ mode: 'token' });
      const base = await serveForTest(serve, latchkey);
      const { response } = await register(base);
      await expectError(await fetch(`${base}/api/me`), latchkey, 401, 'unauthenticated');
      const bad = await fetch(`${base}/api/me`, { headers: { authorization: 'Bearer a.b.c' } });
      await expectError(bad, latchkey, 401, 'unauthenticated');

      const refresh = await fetch(`${base}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: cookieOf(response, '__Host-Http-refresh')! },
      });
      expect(refresh.status).toBe(200);
      const { accessToken } = (await refresh.json()) as { accessToken: string };
      const me = await fetch(`${base}/api/me`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(me.status).toBe(200);

      const jwks = await fetch(`${base}/auth/jwks.json`);
      expect(jwks.status).toBe(200);
      expect(((await jwks.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    });
  });
}
