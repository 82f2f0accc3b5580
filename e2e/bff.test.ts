import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalProvider, type LocalProvider } from '../examples/bff/provider.js';
import { startDemoUpstream, type DemoUpstream } from '../examples/bff/upstream.js';
import {
  freePort,
  registered,
  startTestServer,
  type TestServer,
} from '../apps/reference/test/harness.js';
import { enrolTotp, nextCode } from '../apps/reference/test/totp.js';
import { harvest, inContext, launchChromium } from './browser.js';

/*
 * The backend for frontend in Chromium: the app on localhost, the OpenID provider
 * (oidc-provider, its development login page) on 127.0.0.1 — another site, as an
 * identity provider on its own domain is — and the upstream API on 127.0.0.1. Two app
 * servers share Redis and PostgreSQL.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TTL_S = 4;
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;

let browser: Browser;
let upstream: DemoUpstream;
let provider: LocalProvider;
let a: TestServer;
let b: TestServer;
const tag = randomBytes(4).toString('hex');
const schema = `bff_e2e_${tag}`;
const prefix = `bff-e2e-${tag}:`;

beforeAll(async () => {
  const [portA, portB] = [await freePort('localhost'), await freePort('localhost')];
  const appUrls = [`http://localhost:${portA}`, `http://localhost:${portB}`];
  [browser, upstream] = await Promise.all([launchChromium(), startDemoUpstream()]);
  provider = await startLocalProvider({
    appUrls,
    upstreamUrl: upstream.url,
    accessTokenTtl: TTL_S,
  });
  upstream.trust(provider.issuer);
  const env = {
    LATCHKEY_OIDC_ISSUER: provider.issuer,
    LATCHKEY_OIDC_CLIENT_ID: provider.clientId,
    LATCHKEY_OIDC_CLIENT_SECRET: provider.clientSecret,
    LATCHKEY_UPSTREAM_URL: upstream.url,
    LATCHKEY_REDIS_URL: REDIS_URL,
    LATCHKEY_REDIS_PREFIX: prefix,
    DATABASE_URL,
    LATCHKEY_DATABASE_SCHEMA: schema,
    LATCHKEY_NEAR_CACHE: '30s',
  };
  a = await startTestServer({ ...env, PORT: String(portA) }, { host: 'localhost' });
  b = await startTestServer({ ...env, PORT: String(portB) }, { host: 'localhost' });
});

afterAll(async () => {
  await Promise.all([browser?.close(), a?.dispose(), b?.dispose()]);
  await Promise.all([provider?.close(), upstream?.close()]);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => pool.end());
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** As a person: `Sign in with SSO` and the provider's login form, back to the app. */
async function throughProvider(page: Page, login: string, url = a.url): Promise<void> {
  await page.goto(url);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await page.waitForURL((u) => u.origin === provider.issuer);
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

/** `throughProvider`, then signed in. */
async function signInWithSso(page: Page, login: string, url = a.url): Promise<void> {
  await throughProvider(page, login, url);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** What the relay answers page script (status and JSON), as the SPA's own fetch would see. */
function relay(page: Page, path: string): Promise<{ status: number; body: any }> {
  return page.evaluate(async (p) => {
    const response = await fetch(p);
    return { status: response.status, body: await response.json().catch(() => null) };
  }, path);
}

const sessionStatus = (page: Page) =>
  page.evaluate(async () => (await fetch('/auth/session')).status);

describe('backend for frontend in a real browser', () => {
  it('signs in through the provider on another site; page script can read no provider token', async () => {
    await inContext(browser, async (context, page) => {
      const login = `ada-${tag}`;
      await signInWithSso(page, login);
      expect(new URL(page.url()).origin).toBe(a.url);
      const cookies = await context.cookies(a.url);
      expect(cookies.find((c) => c.name === '__Host-Http-session')).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
      });
      // The transaction cookie was single use: cleared by the callback.
      expect(cookies.find((c) => c.name === '__Host-Http-oidc')).toBeUndefined();

      const answer = await relay(page, '/bff/profile');
      expect(answer).toMatchObject({ status: 200, body: { hello: login, path: '/profile' } });
      const token = upstream.seen.at(-1)?.token ?? '';
      expect(token).toMatch(JWT);

      const everything = await harvest(page);
      expect(everything).not.toContain(token);
      expect(everything).not.toMatch(JWT);
    });
  });

  it("an account with an authenticator app: after the provider, the page asks for the app's code", async () => {
    const { agent: owner, email } = await registered(a.url);
    const { secret, used } = await enrolTotp(owner);

    await inContext(browser, async (context, page) => {
      await throughProvider(page, email);

      // Back on the app: no session yet, the second step on screen, the marker gone.
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      expect(new URL(page.url()).hash).toBe('');
      const cookies = await context.cookies(a.url);
      expect(cookies.find((c) => c.name === '__Host-Http-session')).toBeUndefined();
      expect(cookies.find((c) => c.name === '__Host-Http-mfa')).toMatchObject({ httpOnly: true });
      expect(await sessionStatus(page)).toBe(401);

      await page.getByLabel('Authentication code').fill(nextCode(secret, used));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await sessionStatus(page)).toBe(200);
      const answer = await relay(page, '/bff/profile');
      expect(answer).toMatchObject({ status: 200, body: { hello: email } });
    });
  });

  it("Sign out ends the provider's session too: the next Sign in with SSO asks who you are", async () => {
    await inContext(browser, async (_context, page) => {
      await signInWithSso(page, `grace-${tag}`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      // The provider's end-session page, with the ID token as the hint.
      await page.waitForURL((u) => u.origin === provider.issuer);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      // Back at the app's post-logout page, signed out here.
      await page.waitForURL((u) => u.origin === a.url);
      expect(await sessionStatus(page)).toBe(401);
      // On a shared computer the next person is asked to sign in at the provider, rather
      // than being signed straight back into the previous account.
      await page.getByRole('link', { name: 'Sign in with SSO' }).click();
      await page.waitForURL((u) => u.origin === provider.issuer);
      await page.getByPlaceholder('Enter any login').waitFor();
    });
  });

  it('after the access token is due, relay calls from two tabs cause exactly one refresh', async () => {
    await inContext(browser, async (context, page) => {
      await signInWithSso(page, `grace-${tag}`);
      const second = await context.newPage();
      await second.goto(a.url);
      await second.getByRole('button', { name: 'Sign out' }).waitFor();
      expect((await relay(second, '/bff/warm')).status).toBe(200);

      await sleep(TTL_S * 1000);
      const before = provider.refreshes();
      const burst = (tab: Page) =>
        tab.evaluate(() =>
          Promise.all(
            Array.from({ length: 5 }, (_, i) => fetch(`/bff/tab/${i}`).then((r) => r.status)),
          ),
        );
      const [one, two] = await Promise.all([burst(page), burst(second)]);
      expect([...one, ...two]).toEqual(Array(10).fill(200));
      expect(provider.refreshes()).toBe(before + 1);
    });
  });

  it('a grant revoked at the provider makes the next relay call 401 session_expired, and signs out', async () => {
    await inContext(browser, async (_context, page) => {
      const login = `revoked-${tag}`;
      await signInWithSso(page, login);
      expect((await relay(page, '/bff/ok')).status).toBe(200);
      await provider.revokeGrants(login);
      await sleep(TTL_S * 1000);
      const refused = await relay(page, '/bff/after');
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('session_expired');
      expect(await sessionStatus(page)).toBe(401);
      await page.reload();
      await page.getByRole('link', { name: 'Sign in with SSO' }).waitFor();
    });
  });

  it('back-channel logout from the provider ends the session on both app servers', async () => {
    await inContext(browser, async (context, page) => {
      const login = `bcl-${tag}`;
      await signInWithSso(page, login);
      // The same browser on the second server (cookies are per host, not per port).
      const onB = await context.newPage();
      await onB.goto(b.url);
      await onB.getByRole('button', { name: 'Sign out' }).waitFor();
      expect((await relay(onB, '/bff/from-b')).status).toBe(200);

      await provider.backchannelLogout(login);
      expect(await sessionStatus(page)).toBe(401);
      await expect.poll(() => sessionStatus(onB)).toBe(401);
      expect((await relay(onB, '/bff/from-b')).status).toBe(401);
    });
  });
});
