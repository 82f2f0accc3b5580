import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalProvider, type LocalProvider } from '../../../examples/bff/provider.js';
import { startDemoUpstream, type DemoUpstream } from '../../../examples/bff/upstream.js';
import {
  Agent,
  freePort,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  type TestServer,
} from './harness.js';
import { loginAtProvider, signInThroughProvider, startLogin } from './oidc-flow.js';
import { enrolTotp, nextCode } from './totp.js';

/*
 * The backend for frontend against a real OpenID provider (oidc-provider on 127.0.0.1)
 * and a real upstream API that verifies the provider's JWT access tokens: sign-in,
 * the relay, refresh (one per session across servers), revocation at the provider,
 * back-channel logout, and the attacks on the callback and the logout endpoint.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const oidcEnv = (provider: LocalProvider, upstream: DemoUpstream) => ({
  LATCHKEY_OIDC_ISSUER: provider.issuer,
  LATCHKEY_OIDC_CLIENT_ID: provider.clientId,
  LATCHKEY_OIDC_CLIENT_SECRET: provider.clientSecret,
  LATCHKEY_UPSTREAM_URL: upstream.url,
});

let counter = 0;
const uniqueLogin = (prefix = 'person') =>
  `${prefix}${++counter}-${randomBytes(3).toString('hex')}@example.test`;

/** The callback URL the provider sends the browser to, for an agent that started a login. */
async function providerCallback(agent: Agent, login: string) {
  const start = await startLogin(agent, '/');
  return new URL(await loginAtProvider(start, login));
}

/** A server that records what the provider posts and passes it on (to see logout tokens). */
async function startTap(target: () => string) {
  const tokens: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const token = new URLSearchParams(body).get('logout_token');
      if (token) tokens.push(token);
      void fetch(target(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }).then(
        async (answer) => res.writeHead(answer.status).end(await answer.text()),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    tokens,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const postLogoutToken = (url: string, token: string) =>
  fetch(new URL('/auth/oidc/backchannel-logout', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });

describe('sign-in through the provider, one server', () => {
  let upstream: DemoUpstream;
  let provider: LocalProvider;
  let app: TestServer;

  beforeAll(async () => {
    const port = await freePort();
    upstream = await startDemoUpstream();
    provider = await startLocalProvider({
      appUrls: [`http://127.0.0.1:${port}`],
      upstreamUrl: upstream.url,
      unverifiedEmails: ['unverified@example.test'],
    });
    upstream.trust(provider.issuer);
    app = await startTestServer({ PORT: String(port), ...oidcEnv(provider, upstream) });
  });
  afterAll(async () => {
    await app?.dispose();
    await Promise.all([provider?.close(), upstream?.close()]);
  });

  it('login redirects to the provider with PKCE S256, state and nonce, and a Lax transaction cookie', async () => {
    const agent = new Agent(app.url);
    const location = new URL(await startLogin(agent, '/notes'));
    expect(location.origin).toBe(provider.issuer);
    const params = location.searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toBeTruthy();
    expect(params.get('nonce')).toBeTruthy();
    expect(params.get('redirect_uri')).toBe(`${app.url}/auth/oidc/callback`);
    expect(location.href).not.toContain(provider.clientSecret);
    // The cookie: host-only, HttpOnly, Secure, Lax (it rides the provider's redirect back), 10 min.
    const response = await fetch(new URL('/auth/oidc/login', app.url), { redirect: 'manual' });
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-Http-oidc=[A-Za-z0-9_-]+; /);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Max-Age=600/);
    // Sealed: the verifier is not readable in it.
    expect(cookie).not.toContain(params.get('state') ?? '-');
  });

  it('limits sign-in starts per address (each writes a transaction record): 429 with Retry-After', async () => {
    // Address limit 20 (20× LATCHKEY_LOGIN_LIMIT): 200 starts per window, then refused.
    const limited = await startTestServer({
      LATCHKEY_LOGIN_LIMIT: '1',
      ...oidcEnv(provider, upstream),
    });
    try {
      const start = () => fetch(new URL('/auth/oidc/login', limited.url), { redirect: 'manual' });
      for (let i = 0; i < 200; i++) expect((await start()).status).toBe(302);
      const refused = await start();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'rate_limited',
      );
      expect(refused.headers.getSetCookie()).toEqual([]);
    } finally {
      await limited.dispose();
    }
  });

  it('the callback starts a session for a new user and answers a page that moves to returnTo', async () => {
    const agent = new Agent(app.url);
    const login = uniqueLogin();
    const answer = await signInThroughProvider(agent, login, '/notes?x=1&y="2"');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.text).toContain('<meta http-equiv="refresh" content="0;url=/notes?x=1&#38;y=%22');
    expect(answer.text).not.toContain('<script');
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(answer.setCookies.some((c) => /^__Host-Http-oidc=; /.test(c))).toBe(true);
    expect(agent.cookies.has('__Host-Http-session')).toBe(true);
    expect(agent.cookies.has('__Host-Http-device')).toBe(true);
    const session = await agent.request('GET', '/auth/session');
    expect(session.status).toBe(200);
    expect(session.json.user).toMatchObject({ email: login, emailVerified: true });
    expect(
      app.events.some((e) => e.event === 'login_succeeded' && e.userId === session.json.user.id),
    ).toBe(true);
  });

  it('returnTo must be a same-origin path', async () => {
    for (const evil of [
      '//evil.example/x',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const agent = new Agent(app.url);
      const answer = await signInThroughProvider(agent, uniqueLogin(), evil);
      expect(answer.text).toContain('content="0;url=/"');
    }
  });

  it('the relay calls the upstream with the provider token, never the browser credentials', async () => {
    const agent = new Agent(app.url);
    const login = uniqueLogin();
    await signInThroughProvider(agent, login);
    const answer = await agent.request('GET', '/bff/things?page=2');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ hello: login, path: '/things?page=2', method: 'GET' });
    expect(answer.headers.get('set-cookie')).toBeNull();
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    const seen = upstream.seen.at(-1);
    expect(seen).toMatchObject({ sub: login, cookie: false, csrf: false, status: 200 });

    // Unsafe methods need the anti-forgery token, as every cookie route does.
    const before = upstream.seen.length;
    expect((await agent.request('POST', '/bff/things', { json: { a: 1 } })).status).toBe(403);
    expect(upstream.seen.length).toBe(before);
    const posted = await agent.unsafe('POST', '/bff/things', { a: 'b'.repeat(1000) });
    expect(posted.status).toBe(200);
    expect(posted.json.bodyBytes).toBe(JSON.stringify({ a: 'b'.repeat(1000) }).length);
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'POST', csrf: false, cookie: false });

    // A body over the limit (1 MiB) is refused, declared or streamed.
    const big = await agent.request('POST', '/bff/things', {
      body: 'x'.repeat(1_048_577),
      headers: { 'x-csrf-token': agent.csrfToken ?? '', 'content-type': 'text/plain' },
    });
    expect(big.status).toBe(413);
  });

  it('the relay needs a session, and one signed in through the provider', async () => {
    const anonymous = await new Agent(app.url).request('GET', '/bff/things');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('unauthenticated');
    const { agent } = await registered(app.url);
    const passwordOnly = await agent.request('GET', '/bff/things');
    expect(passwordOnly.status).toBe(401);
  });

  it('keeps the provider tokens sealed in the store, and out of every answer and log', async () => {
    const agent = new Agent(app.url);
    const login = uniqueLogin();
    const callback = await signInThroughProvider(agent, login);
    await agent.request('GET', '/bff/secret-check');
    const token = upstream.seen.at(-1)?.token;
    expect(token).toMatch(/^eyJ/);
    const session = await agent.request('GET', '/auth/session');
    const record = await app.store.records.getRecord(
      'oidc-tokens',
      session.json.session.id as string,
      Date.now(),
    );
    expect(record).not.toBeNull();
    expect(record?.data).not.toContain(token);
    expect(record?.data).not.toContain('eyJ');
    const everything = [
      callback.text,
      session.text,
      JSON.stringify(app.events),
      [...agent.cookies].join(),
    ];
    for (const text of everything) expect(text).not.toContain(token);
  });

  it('links an existing account by email only when the provider verified it', async () => {
    // Verified: the password account and the provider identity are the same user.
    const email = uniqueLogin('owner');
    const local = new Agent(app.url);
    const created = await local.request('POST', '/auth/register', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(created.status).toBe(201);
    const agent = new Agent(app.url);
    await signInThroughProvider(agent, email);
    expect((await agent.request('GET', '/auth/session')).json.user.id).toBe(created.json.user.id);

    // Unverified: refused, no session.
    const victim = await new Agent(app.url).request('POST', '/auth/register', {
      json: { email: 'unverified@example.test', password: GOOD_PASSWORD },
    });
    expect(victim.status).toBe(201);
    const attacker = new Agent(app.url);
    const callback = await providerCallback(attacker, 'unverified@example.test');
    const refused = await attacker.request('GET', callback.pathname + callback.search);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('email_taken');
    expect(attacker.cookies.has('__Host-Http-session')).toBe(false);
  });

  it("an account with its own second factor is not signed in on the provider's word alone: the code finishes it, with the provider's tokens kept", async () => {
    const { agent: owner, email, user } = await registered(app.url);
    const { secret, used } = await enrolTotp(owner);

    // The provider vouches for the email: no session, only the pending second step.
    const browser = new Agent(app.url);
    const before = app.events.length;
    const page = await signInThroughProvider(browser, email, '/notes#/sessions');
    expect(page.status).toBe(200);
    expect(page.text).toContain('content="0;url=/notes#second-factor"');
    expect(browser.cookies.has('__Host-Http-session')).toBe(false);
    expect(browser.cookies.has('__Host-Http-mfa')).toBe(true);
    expect(page.setCookies.some((c) => /^__Host-Http-mfa=.+; .*SameSite=Strict/.test(c))).toBe(
      true,
    );
    expect((await browser.request('GET', '/auth/session')).status).toBe(401);
    expect((await browser.request('GET', '/api/notes')).status).toBe(401);
    expect((await browser.request('GET', '/bff/things')).status).toBe(401);
    expect(app.events.slice(before).some((e) => e.event === 'login_succeeded')).toBe(false);

    const wrong = await browser.request('POST', '/auth/login/mfa', { json: { code: '000000' } });
    expect(wrong.json.error.code).toBe('invalid_token');
    const done = await browser.request('POST', '/auth/login/mfa', {
      json: { code: nextCode(secret, used) },
    });
    expect(done.status).toBe(200);
    expect(done.json.user.id).toBe(user.id);
    expect(browser.cookies.has('__Host-Http-session')).toBe(true);
    expect(browser.cookies.has('__Host-Http-mfa')).toBe(false);
    // The provider's tokens waited, sealed, in the pending sign-in: the relay has them.
    const relayed = await browser.request('GET', '/bff/things');
    expect(relayed.status).toBe(200);
    expect(relayed.json).toMatchObject({ hello: email });
  });

  it('refuses a wrong state, a missing transaction cookie, a mix-up iss, a provider error and a replayed callback', async () => {
    const refusedWithoutSession = async (agent: Agent, url: URL, cookie?: string) => {
      const answer = await agent.request('GET', url.pathname + url.search, {
        ...(cookie === undefined ? {} : { headers: { cookie } }),
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('invalid_request');
      expect(answer.setCookies.some((c) => c.startsWith('__Host-Http-session='))).toBe(false);
      return answer;
    };

    // Wrong state.
    let agent = new Agent(app.url);
    let callback = await providerCallback(agent, uniqueLogin());
    callback.searchParams.set('state', 'forged-state');
    await refusedWithoutSession(agent, callback);

    // No transaction cookie (the PKCE verifier is in it).
    agent = new Agent(app.url);
    callback = await providerCallback(agent, uniqueLogin());
    await refusedWithoutSession(agent, callback, '');

    // Mix-up: a response claiming another issuer (RFC 9207), or none.
    agent = new Agent(app.url);
    callback = await providerCallback(agent, uniqueLogin());
    callback.searchParams.set('iss', 'https://evil.example');
    await refusedWithoutSession(agent, callback);
    agent = new Agent(app.url);
    callback = await providerCallback(agent, uniqueLogin());
    callback.searchParams.delete('iss');
    await refusedWithoutSession(agent, callback);

    // The provider's own error answer.
    agent = new Agent(app.url);
    const state = new URL(await startLogin(agent)).searchParams.get('state') ?? '';
    const error = new URL('/auth/oidc/callback', app.url);
    error.search = new URLSearchParams({
      error: 'access_denied',
      state,
      iss: provider.issuer,
    }).toString();
    await refusedWithoutSession(agent, error);

    // The same good callback twice: the transaction is single use.
    agent = new Agent(app.url);
    callback = await providerCallback(agent, uniqueLogin());
    const cookie = `__Host-Http-oidc=${agent.cookies.get('__Host-Http-oidc')}`;
    const first = await agent.request('GET', callback.pathname + callback.search, {
      headers: { cookie },
    });
    expect(first.status).toBe(200);
    await refusedWithoutSession(new Agent(app.url), callback, cookie);

    // A browser gets a page, not JSON.
    const page = await new Agent(app.url).request('GET', '/auth/oidc/callback?code=x&state=y', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(400);
    expect(page.text).toContain('Sign-in did not complete');
  });

  it('logout revokes the session and answers the provider end-session URL', async () => {
    const agent = new Agent(app.url);
    await signInThroughProvider(agent, uniqueLogin());
    const session = await agent.request('GET', '/auth/session');
    expect((await agent.request('POST', '/auth/oidc/logout')).status).toBe(403);
    const answer = await agent.unsafe('POST', '/auth/oidc/logout');
    expect(answer.status).toBe(200);
    const redirectTo = new URL(answer.json.redirectTo as string);
    expect(redirectTo.origin).toBe(provider.issuer);
    expect(redirectTo.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`);
    expect(redirectTo.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(answer.setCookies.some((c) => /^__Host-Http-session=; /.test(c))).toBe(true);
    expect((await agent.request('GET', '/auth/session')).status).toBe(401);
    expect(
      await app.store.records.getRecord(
        'oidc-tokens',
        session.json.session.id as string,
        Date.now(),
      ),
    ).toBeNull();
  });

  it('logout of a password session sends the browser home, not to the provider', async () => {
    const { agent } = await registered(app.url);
    const answer = await agent.unsafe('POST', '/auth/oidc/logout');
    expect(answer.status).toBe(200);
    // Nothing at the provider belongs to this session: no "sign out?" page there.
    expect(answer.json.redirectTo).toBe(`${app.url}/`);
    expect(answer.setCookies.some((c) => /^__Host-Http-session=; /.test(c))).toBe(true);
    expect((await agent.request('GET', '/auth/session')).status).toBe(401);
  });

  it('serves the provider name in /config.json for the sign-in button', async () => {
    const config = await new Agent(app.url).request('GET', '/config.json');
    expect(config.json).toEqual({ mode: 'session', oidc: { name: 'SSO' } });
  });
});

describe('sign-in through the provider in token mode', () => {
  it('the callback sets the refresh cookie; the relay takes the Latchkey bearer token and sends the provider one', async () => {
    const port = await freePort();
    const upstream = await startDemoUpstream();
    const provider = await startLocalProvider({
      appUrls: [`http://127.0.0.1:${port}`],
      upstreamUrl: upstream.url,
    });
    upstream.trust(provider.issuer);
    const app = await startTestServer({
      PORT: String(port),
      LATCHKEY_MODE: 'token',
      ...oidcEnv(provider, upstream),
    });
    try {
      const agent = new Agent(app.url);
      const login = uniqueLogin('token');
      expect((await signInThroughProvider(agent, login)).status).toBe(200);
      expect(agent.cookies.has('__Host-Http-refresh')).toBe(true);
      const refreshed = await agent.request('POST', '/auth/refresh');
      expect(refreshed.status).toBe(200);
      const accessToken = refreshed.json.accessToken as string;
      expect((await agent.request('GET', '/bff/me', { headers: { cookie: '' } })).status).toBe(401);
      const answer = await agent.request('GET', '/bff/me', {
        headers: { cookie: '', authorization: `Bearer ${accessToken}` },
      });
      expect(answer.status).toBe(200);
      expect(answer.json.hello).toBe(login);
      expect(upstream.seen.at(-1)?.token).not.toBe(accessToken);
    } finally {
      await app.dispose();
      await Promise.all([provider.close(), upstream.close()]);
    }
  });
});

describe.each([
  { rotate: false, label: 'a provider that keeps refresh tokens' },
  { rotate: true, label: 'a provider that rotates refresh tokens' },
])('two servers sharing Redis + PostgreSQL, $label', ({ rotate }) => {
  const tag = randomBytes(4).toString('hex');
  const schema = `bff_${tag}`;
  const prefix = `bff-${tag}:`;
  let upstream: DemoUpstream;
  let provider: LocalProvider;
  let tap: Awaited<ReturnType<typeof startTap>>;
  let a: TestServer;
  let b: TestServer;
  const TTL_S = 4;

  beforeAll(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    upstream = await startDemoUpstream();
    tap = await startTap(() => `${a.url}/auth/oidc/backchannel-logout`);
    provider = await startLocalProvider({
      appUrls: [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`],
      upstreamUrl: upstream.url,
      accessTokenTtl: TTL_S,
      rotateRefreshTokens: rotate,
      backchannelLogoutUri: tap.url,
    });
    upstream.trust(provider.issuer);
    const env = {
      ...oidcEnv(provider, upstream),
      LATCHKEY_REDIS_URL: REDIS_URL,
      LATCHKEY_REDIS_PREFIX: prefix,
      DATABASE_URL,
      LATCHKEY_DATABASE_SCHEMA: schema,
      LATCHKEY_NEAR_CACHE: '30s',
    };
    a = await startTestServer({ ...env, PORT: String(portA) });
    b = await startTestServer({ ...env, PORT: String(portB) });
  });
  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
    await Promise.all([provider?.close(), upstream?.close(), tap?.close()]);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => pool.end());
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** Signed in on A through the provider; the same browser's cookies presented to B. */
  async function signedInOnBoth(login: string) {
    const onA = new Agent(a.url);
    const answer = await signInThroughProvider(onA, login);
    expect(answer.status).toBe(200);
    const onB = new Agent(b.url);
    for (const [k, v] of onA.cookies) onB.cookies.set(k, v);
    return { onA, onB };
  }

  it('concurrent relay calls on both servers after the access token is due cause exactly one refresh', async () => {
    const login = uniqueLogin('racer');
    const { onA, onB } = await signedInOnBoth(login);
    expect((await onB.request('GET', '/bff/warm')).status).toBe(200);

    for (let round = 1; round <= 2; round++) {
      // Refresh is due halfway through the token's life (TTL 4 s, skew capped at half).
      await sleep(TTL_S * 1000);
      const before = provider.refreshes();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? onA : onB).request('GET', `/bff/race/${i}`)),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(answers.every((r) => r.json.hello === login)).toBe(true);
      expect(provider.refreshes()).toBe(before + 1);
    }
    // All ten used the same new token.
    const tokens = new Set(upstream.seen.slice(-10).map((s) => s.token));
    expect(tokens.size).toBe(1);
  });

  it('a grant the provider revoked ends the session at the next refresh: 401 session_expired', async () => {
    const login = uniqueLogin('revoked');
    const { onA, onB } = await signedInOnBoth(login);
    expect((await onB.request('GET', '/bff/ok')).status).toBe(200);
    expect(await provider.revokeGrants(login)).toBeGreaterThan(0);
    await sleep(TTL_S * 1000);
    const refused = await onB.request('GET', '/bff/after-revoke');
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('session_expired');
    expect(refused.setCookies.some((c) => /^__Host-Http-session=; /.test(c))).toBe(true);
    // Signed out everywhere, not half signed in.
    expect((await onA.request('GET', '/auth/session')).status).toBe(401);
    expect((await onA.request('GET', '/bff/again')).status).toBe(401);
  });

  it('back-channel logout from the provider ends the session on both servers; a replay is refused', async () => {
    const login = uniqueLogin('bcl');
    const { onA, onB } = await signedInOnBoth(login);
    // Twice on B: the second answer comes from its near-cache.
    expect((await onB.request('GET', '/auth/session')).status).toBe(200);
    expect((await onB.request('GET', '/auth/session')).status).toBe(200);
    const seen = tap.tokens.length;
    await provider.backchannelLogout(login);
    expect(tap.tokens.length).toBe(seen + 1);
    await expect.poll(async () => (await onB.request('GET', '/auth/session')).status).toBe(401);
    expect((await onA.request('GET', '/auth/session')).status).toBe(401);
    expect((await onB.request('GET', '/bff/x')).status).toBe(401);
    expect(
      a.events.some(
        (e) => e.event === 'session_revoked' && 'by' in e && e.by === 'backchannel_logout',
      ),
    ).toBe(true);

    // The same logout token again, to either server: refused (its jti was seen).
    const token = tap.tokens.at(-1) ?? '';
    expect((await postLogoutToken(a.url, token)).status).toBe(400);
    expect((await postLogoutToken(b.url, token)).status).toBe(400);
  });

  it('refuses a forged logout token, and leaves the session alone', async () => {
    const login = uniqueLogin('forged');
    const { onA } = await signedInOnBoth(login);
    const { privateKey } = await generateKeyPair('RS256');
    const claims = {
      sub: login,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      jti: randomBytes(8).toString('hex'),
    };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'not-the-providers' })
      .setIssuer(provider.issuer)
      .setAudience(provider.clientId)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        ...claims,
        iss: provider.issuer,
        aud: provider.clientId,
        iat: Math.floor(Date.now() / 1000),
      }),
    ).toString('base64url')}.`;
    for (const token of [forged, unsigned, 'not-a-jwt']) {
      const answer = await postLogoutToken(a.url, token);
      expect(answer.status).toBe(400);
    }
    // Not a form: refused as well.
    const json = await fetch(new URL('/auth/oidc/backchannel-logout', a.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logout_token: forged }),
    });
    expect(json.status).toBe(400);
    expect((await onA.request('GET', '/auth/session')).status).toBe(200);
  });
});
