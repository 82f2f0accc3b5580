/**
 * Token mode in real Chromium: the reference app with LATCHKEY_MODE=token, driven through
 * its page. The access token must stay in the client's memory, the refresh token in an
 * HttpOnly cookie, and the tabs of one browser must share one refresh family without ever
 * tripping its reuse detection.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GOOD_PASSWORD,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../apps/reference/test/harness.js';
import { harvest, type AttackerSite, inContext, createAccount as signUp } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

const COOKIE = '__Host-Http-refresh';
/** Short access tokens, so the tests run past several expiries in a few seconds. */
const TTL_SECONDS = 3;

let app: TestServer;
let browser: Browser;
let attacker: AttackerSite;

let fixture: AppInBrowser;
beforeAll(async () => {
  fixture = await startAppInBrowser({
    LATCHKEY_MODE: 'token',
    LATCHKEY_ACCESS_TTL: `${TTL_SECONDS}s`,
  });
  ({ app, browser, attacker } = fixture);
});
afterAll(() => fixture.close());

const withContext = <T>(fn: (context: BrowserContext, page: Page) => Promise<T>) =>
  inContext(browser, fn);

const createAccount = (page: Page, baseUrl = app.url) =>
  signUp(page, baseUrl, uniqueEmail('token-e2e'), GOOD_PASSWORD);

/** Opens the app in another tab of the same browser and waits until it shows the user. */
async function openTab(context: BrowserContext, baseUrl = app.url): Promise<Page> {
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

async function addNote(page: Page, text: string): Promise<void> {
  await page.getByRole('link', { name: 'Notes' }).click();
  await page.getByLabel('New note').fill(text);
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByText(text, { exact: true }).waitFor();
}

interface Seen {
  /** When the answer arrived (epoch ms). */
  at: number;
  /** When the request left (epoch ms). */
  sentAt: number;
  method: string;
  path: string;
  status: number;
  code: string | undefined;
}

/**
 * Records what the auth routes and the API answered a page, the access tokens in those
 * answers, and every refresh-cookie value the server set.
 */
function watch(page: Page) {
  const log = {
    responses: [] as Seen[],
    accessTokens: [] as string[],
    refreshCookies: [] as string[],
    pending: [] as Promise<void>[],
  };
  const record = async (response: Response) => {
    const { pathname } = new URL(response.url());
    if (!pathname.startsWith('/auth/') && !pathname.startsWith('/api/')) return;
    const entry: Seen = {
      at: Date.now(),
      sentAt: response.request().timing().startTime,
      method: response.request().method(),
      path: pathname,
      status: response.status(),
      code: undefined,
    };
    log.responses.push(entry);
    for (const header of await response.headersArray()) {
      const value = /^__Host-Http-refresh=([^;]+)/.exec(header.value)?.[1];
      if (header.name.toLowerCase() === 'set-cookie' && value) log.refreshCookies.push(value);
    }
    if (!(response.headers()['content-type'] ?? '').includes('json')) return;
    const body = (await response.json().catch(() => null)) as {
      accessToken?: string;
      error?: { code: string };
    } | null;
    if (body?.accessToken) log.accessTokens.push(body.accessToken);
    entry.code = body?.error?.code;
  };
  page.on('response', (response) => {
    log.pending.push(record(response).catch(() => undefined));
  });
  return {
    ...log,
    /** Waits for the bodies of everything seen so far to be read. */
    settled: () => Promise.all(log.pending),
    refreshes: (since = 0) =>
      log.responses.filter((r) => r.path === '/auth/refresh' && r.at >= since),
  };
}

async function refreshCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === COOKIE);
}

/** `POST /auth/refresh` as the page's Resource Timing saw it: [start, end] in epoch ms. */
function refreshTimings(page: Page): Promise<{ start: number; end: number; duration: number }[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e): e is PerformanceResourceTiming => e instanceof PerformanceResourceTiming)
      .filter((e) => new URL(e.name).pathname === '/auth/refresh')
      .map((e) => ({
        start: performance.timeOrigin + e.startTime,
        end: performance.timeOrigin + e.responseEnd,
        duration: e.responseEnd - e.startTime,
      })),
  );
}

const reused = (server: TestServer) => server.events.filter((e) => e.event === 'refresh_reused');

describe('token mode in a real browser', () => {
  it('a person creates an account and adds a note; the API gets a bearer token and no cookie', async () => {
    await withContext(async (context, page) => {
      const seen = watch(page);
      const api: Record<string, string>[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname.startsWith('/api/')) {
          void request.allHeaders().then((headers) => api.push(headers));
        }
      });
      await createAccount(page);
      await addNote(page, 'Buy milk');
      await seen.settled();
      expect(api.length).toBeGreaterThan(0);
      for (const headers of api) {
        expect(headers.authorization).toMatch(/^Bearer eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
        // The refresh cookie is host-only on Path=/ (API.md v2), so it travels with
        // API calls too; the API reads only the bearer token, never a cookie.
        expect(headers.cookie ?? '').not.toContain('__Host-Http-session');
        expect(headers['x-csrf-token']).toBeUndefined();
      }
      expect(seen.accessTokens).toContain(api[0]?.authorization?.slice('Bearer '.length));
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-Http-device', COOKIE]);
      for (const cookie of cookies) {
        expect(cookie).toMatchObject({
          httpOnly: true,
          secure: true,
          sameSite: 'Strict',
          path: '/',
          domain: 'localhost',
        });
      }
    });
  });

  it('nothing page script can read contains the access or the refresh token', async () => {
    await withContext(async (context, page) => {
      const seen = watch(page);
      await createAccount(page);
      await page.getByRole('link', { name: 'Security' }).click();
      await page.getByText('No access or refresh token is readable by page scripts').waitFor();
      await page.getByText(/The access token is only in memory/).waitFor();
      // Let a few renewals happen, so several tokens and cookies have been in play.
      await sleep(TTL_SECONDS * 1000 + 500);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByText('No access or refresh token is readable by page scripts').waitFor();
      await seen.settled();
      const current = (await refreshCookie(context))?.value ?? '';
      const refreshTokens = [...new Set([...seen.refreshCookies, current])];
      expect(seen.accessTokens.length).toBeGreaterThanOrEqual(3);
      expect(refreshTokens.length).toBeGreaterThanOrEqual(3);
      const readable = await harvest(page);
      for (const token of seen.accessTokens) {
        expect(readable).not.toContain(token);
        expect(readable).not.toContain(token.split('.')[2]); // not even its signature
      }
      for (const cookie of refreshTokens) {
        const [, secret] = cookie.split('.');
        expect(secret).toHaveLength(43);
        expect(readable).not.toContain(cookie);
        expect(readable).not.toContain(secret);
      }
      expect(await page.evaluate(() => document.cookie)).toBe('');
      expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    });
  });

  it('reload restores the session with no prompt', async () => {
    await withContext(async (_context, page) => {
      const seen = watch(page);
      await createAccount(page);
      const since = Date.now();
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await page.getByLabel('Email', { exact: true }).count()).toBe(0);
      await seen.settled();
      expect(seen.refreshes(since).map((r) => r.status)).toContain(200);
      expect(seen.refreshes(since).every((r) => r.status === 200)).toBe(true);
    });
  });

  it('two tabs past access-token expiry both keep working, one refresh at a time, never a 401', async () => {
    await withContext(async (context, one) => {
      const email = await createAccount(one);
      const watchOne = watch(one);
      const two = await openTab(context);
      const watchTwo = watch(two);
      const start = Date.now();
      await sleep(3 * TTL_SECONDS * 1000 + 500); // three access-token lifetimes
      await addNote(one, 'written in tab one');
      await addNote(two, 'written in tab two');
      await sleep(TTL_SECONDS * 1000);
      await one.getByRole('link', { name: 'Sessions' }).click();
      await addNote(one, 'and once more in tab one');
      for (const text of ['written in tab one', 'written in tab two']) {
        await one.getByText(text, { exact: true }).waitFor();
      }
      const elapsed = (Date.now() - start) / 1000;
      await Promise.all([watchOne.settled(), watchTwo.settled()]);

      const refreshes = [...watchOne.refreshes(), ...watchTwo.refreshes()];
      const everything = [...watchOne.responses, ...watchTwo.responses];
      expect(refreshes.length).toBeGreaterThan(5);
      expect(refreshes.filter((r) => r.status !== 200)).toEqual([]); // no 401, no token_reused
      expect(everything.filter((r) => r.status === 401)).toEqual([]);
      expect(reused(app)).toEqual([]);
      // The tabs share: about one refresh per cycle (life 2 s, renewed at ~1 s), not one per tab.
      expect(refreshes.length).toBeLessThan(1.5 * (elapsed / 0.9) + 2);
      // …and one at a time: no two refreshes of this browser are ever in flight together.
      const timings = [...(await refreshTimings(one)), ...(await refreshTimings(two))].sort(
        (a, b) => a.start - b.start,
      );
      for (let i = 1; i < timings.length; i++) {
        expect(timings[i]!.start).toBeGreaterThanOrEqual(timings[i - 1]!.end - 1);
      }
      const durations = timings.map((t) => t.duration).sort((a, b) => a - b);
      const at = (q: number) =>
        durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
      console.log(
        `[token e2e] ${email}: ${refreshes.length} refreshes from 2 tabs in ${elapsed.toFixed(1)} s; ` +
          `POST /auth/refresh in the browser: median ${at(0.5)?.toFixed(1)} ms, ` +
          `p95 ${at(0.95)?.toFixed(1)} ms, max ${durations.at(-1)?.toFixed(1)} ms (n=${durations.length})`,
      );
    });
  });

  it('sign-out in one tab signs out the other, and the family is revoked', async () => {
    await withContext(async (context, one) => {
      await createAccount(one);
      const two = await openTab(context);
      const watchTwo = watch(two);
      const cookie = (await refreshCookie(context))?.value ?? '';
      await one.getByRole('button', { name: 'Sign out' }).click();
      await one.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      // No reload: the other tab hears it and drops its token at once.
      await two.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 5_000 });
      const since = Date.now();
      await sleep(TTL_SECONDS * 1000);
      await watchTwo.settled();
      // Its renewal timer is gone too: nothing leaves after the sign-out showed. (A refresh
      // already on its way when the message came would be a race, not a timer.)
      expect(watchTwo.refreshes().filter((r) => r.sentAt >= since)).toEqual([]);
      expect(await refreshCookie(context)).toBeUndefined();
      const replay = await fetch(`${app.url}/auth/refresh`, {
        method: 'POST',
        headers: { cookie: `${COOKIE}=${cookie}` },
      });
      expect(replay.status).toBe(401);
      await two.reload();
      await two.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    });
  });

  it('a cross-site POST to /auth/refresh is refused and the family stays usable', async () => {
    await withContext(async (context, page) => {
      await createAccount(page);
      const seen = watch(page);
      const evil = await context.newPage();
      const target = `${app.url}/auth/refresh`;
      // What left the browser (with or without the cookie) and what came back, where visible:
      // the no-cors answers are withheld from the page (CORP), the server's log tells instead.
      const sent: boolean[] = [];
      const answers: number[] = [];
      evil.on('request', (request) => {
        if (request.url() !== target) return;
        void request.allHeaders().then((headers) => sent.push('cookie' in headers));
      });
      evil.on('response', (response) => {
        if (response.url() === target) answers.push(response.status());
      });
      const pages = {
        form: `<!doctype html><form id=f method=POST action="${target}"></form><script>f.submit()</script>`,
        fetches: `<!doctype html><script>
          Promise.allSettled([
            fetch('${target}', { method: 'POST', mode: 'no-cors', credentials: 'include' }),
            fetch('${target}', { method: 'POST', credentials: 'include' }),
            fetch('${target}', { method: 'POST', mode: 'no-cors', credentials: 'include',
              headers: { 'content-type': 'text/plain' }, body: '{}' }),
          ]).then((r) => { document.title = r.map((x) => x.status).join(); });
        </script>`,
      };
      const refusedBefore = app.events.filter((e) => e.event === 'csrf_refused').length;
      for (const [name, html] of Object.entries(pages)) {
        await evil.goto(attacker.page(`/${name}-${Date.now()}`, html));
        await evil.waitForLoadState('networkidle');
      }
      await expect.poll(() => sent.length).toBe(4);
      expect(sent).toEqual([false, false, false, false]); // SameSite=Strict: no cookie went along
      expect(answers).toEqual([403]); // the form's navigation; the script learnt nothing:
      expect(await evil.title()).toBe('rejected,rejected,rejected');
      const refused = app.events.filter((e) => e.event === 'csrf_refused').slice(refusedBefore);
      expect(refused.map((e) => e.reason)).toEqual(Array(4).fill('sec-fetch-site:cross-site'));
      // The family is untouched: the app renews as before and survives a reload.
      const since = Date.now();
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await addNote(page, 'still mine');
      await seen.settled();
      expect(seen.refreshes(since).length).toBeGreaterThan(0);
      expect(seen.refreshes(since).every((r) => r.status === 200)).toBe(true);
      expect(reused(app)).toEqual([]);
    });
  });
});

describe('account management through the page, in token mode', () => {
  it('Sessions lists both devices; Revoke ends the other one’s refresh family', async () => {
    const laptopContext = await browser.newContext();
    try {
      await withContext(async (_context, page) => {
        const email = await createAccount(page);
        const laptop = await laptopContext.newPage();
        await laptop.goto(app.url);
        await laptop.getByLabel('Email').fill(email);
        await laptop.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
        await laptop.getByRole('button', { name: 'Sign in', exact: true }).click();
        await laptop.getByRole('button', { name: 'Sign out' }).waitFor();
        await page.getByRole('link', { name: 'Sessions' }).click();
        await expect
          .poll(() => page.getByRole('button', { name: 'Revoke', exact: true }).count())
          .toBe(2);
        const other = page.locator('li.session', { hasNot: page.getByText('This device') });
        await other.getByRole('button', { name: 'Revoke', exact: true }).click();
        await expect
          .poll(() => page.getByRole('button', { name: 'Revoke', exact: true }).count())
          .toBe(1);
        // The laptop's access token runs out within seconds and its refresh is refused.
        await laptop
          .getByRole('button', { name: 'Sign in', exact: true })
          .waitFor({ timeout: 10_000 });
        await addNote(page, 'this device carries on');
      });
    } finally {
      await laptopContext.close();
    }
  });

  it('changing the password keeps both tabs of this browser signed in; other devices are out', async () => {
    const otherContext = await browser.newContext();
    try {
      await withContext(async (context, page) => {
        const email = await createAccount(page);
        const tab = await openTab(context);
        const other = await otherContext.newPage();
        await other.goto(app.url);
        await other.getByLabel('Email').fill(email);
        await other.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
        await other.getByRole('button', { name: 'Sign in', exact: true }).click();
        await other.getByRole('button', { name: 'Sign out' }).waitFor();
        await page.getByRole('link', { name: 'Account' }).click();
        await page.getByLabel('Current password').fill(GOOD_PASSWORD);
        await page.getByLabel('New password').fill('a fresh passphrase for today');
        await page.getByRole('button', { name: 'Change password' }).click();
        await page
          .getByRole('status')
          .filter({ hasText: /password/i })
          .waitFor();
        await other
          .getByRole('button', { name: 'Sign in', exact: true })
          .waitFor({ timeout: 10_000 });
        await sleep(TTL_SECONDS * 1000); // past the old family's last access token
        await addNote(page, 'after the change, tab one');
        await addNote(tab, 'after the change, tab two');
        await tab.getByRole('link', { name: 'Sessions' }).click();
        await expect
          .poll(() => tab.getByRole('button', { name: 'Revoke', exact: true }).count())
          .toBe(1);
        await tab.getByText('This device').waitFor();
        expect(reused(app)).toEqual([]);
      });
    } finally {
      await otherContext.close();
    }
  });
});

describe('a tab closed mid-refresh', () => {
  // Tokens that live a minute and a short retry window: a tab's own renewal is ~30 s away,
  // so only the cross-tab follow-up can keep the family alive when a refresh is cut off.
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startTestServer(
      {
        LATCHKEY_MODE: 'token',
        LATCHKEY_ACCESS_TTL: '60s',
        LATCHKEY_REFRESH_RETRY_WINDOW: '3s',
      },
      { host: 'localhost' },
    );
  });
  afterAll(() => slow.dispose());

  const sha = (secret: string) => createHash('sha256').update(secret).digest('base64url');
  /** The family behind a refresh cookie, as the server stores it. */
  const family = (cookie: string) => slow.store.sessions.getSession(cookie.split('.')[0] ?? '');
  const secretOf = (cookie: string) => cookie.split('.')[1] ?? '';

  it('closed the moment its refresh leaves: the other tab keeps working', async () => {
    await withContext(async (context, survivor) => {
      // The cookie each of the survivor's refreshes presented (and when), and the bearer token
      // its API requests carried.
      const presented: { at: number; cookie: string }[] = [];
      let bearer = '';
      survivor.on('request', (request) => {
        const { pathname } = new URL(request.url());
        const at = Date.now();
        if (pathname.startsWith('/api/')) bearer = request.headers().authorization ?? '';
        if (pathname !== '/auth/refresh') return;
        void request.allHeaders().then((headers) => {
          const cookie = /__Host-Http-refresh=([^;]+)/.exec(headers.cookie ?? '')?.[1] ?? '';
          presented.push({ at, cookie });
        });
      });
      await createAccount(survivor, slow.url);
      const watchSurvivor = watch(survivor);
      const outcomes: string[] = [];
      for (let round = 1; round <= 6; round++) {
        const before = (await refreshCookie(context))?.value ?? '';
        const bearerBefore = bearer;
        const victim = await context.newPage();
        const slowNetwork = round > 3;
        if (slowNetwork) {
          // A slow network for the closing tab (DevTools emulation): its answer is on the way
          // back when the tab goes.
          const cdp = await context.newCDPSession(victim);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', {
            offline: false,
            latency: 300,
            downloadThroughput: -1,
            uploadThroughput: -1,
          });
        }
        let closedAt = 0;
        victim.on('request', (request) => {
          if (request.url().endsWith('/auth/refresh') && !closedAt) {
            closedAt = Date.now();
            void victim.close();
          }
        });
        // On load the new tab refreshes: it is closed as that request goes out.
        await victim.goto(slow.url).catch(() => undefined);
        await expect.poll(() => victim.isClosed()).toBe(true);
        await sleep(1_000);
        await watchSurvivor.settled();
        const followUps = watchSurvivor.refreshes(closedAt);
        const first = presented.find((p) => p.at >= closedAt);
        const stored = await family(before);
        const after = (await refreshCookie(context))?.value ?? '';
        await addNote(survivor, `still working after round ${round}`);
        // What became of the closed tab's request: read off the survivor's next refresh (the
        // cookie it presented), the jar, and the family's rotation time (a retry keeps it).
        let fate: string;
        if (first) {
          const lost =
            first.cookie === before &&
            stored?.previousSecretHash === sha(secretOf(before)) &&
            (stored.rotatedAt ?? Infinity) < first.at - 50;
          fate =
            first.cookie !== before
              ? 'the server answered and the browser stored the rotated cookie, but the tab died before sharing the token'
              : lost
                ? 'the server rotated but the answer was lost with the tab'
                : 'the request died before the server rotated anything';
          fate += `; the other tab refreshed ${first.at - closedAt} ms after the close`;
        } else {
          const untouched = after === before && stored?.secretHash === sha(secretOf(before));
          fate =
            after !== before && bearer !== bearerBefore
              ? 'the refresh completed and the token reached the other tab before the close took effect'
              : untouched
                ? 'the request was cancelled before the server rotated anything; the other tab needed no refresh'
                : `jar ${after === before ? 'unchanged' : 'rotated'}, family ${stored?.secretHash === sha(secretOf(before)) ? 'unchanged' : 'rotated'}, other tab's bearer ${bearer === bearerBefore ? 'unchanged' : 'new'}`;
        }
        outcomes.push(
          `round ${round}${slowNetwork ? ' (300 ms latency)' : ''}: ${fate} (other tab's refresh answers: [${followUps.map((r) => r.status).join(', ')}])`,
        );
        expect(followUps.every((r) => r.status === 200)).toBe(true);
      }
      // Well past the retry window, the family still renews and the app still works.
      await sleep(3_500);
      await survivor.reload();
      await survivor.getByRole('button', { name: 'Sign out' }).waitFor();
      await addNote(survivor, 'after three closed tabs');
      await watchSurvivor.settled();
      expect(watchSurvivor.refreshes().filter((r) => r.status !== 200)).toEqual([]);
      expect(reused(slow)).toEqual([]);
      console.log(`[token e2e] closing a tab as its refresh leaves:\n  ${outcomes.join('\n  ')}`);
    });
  });

  it('the server rotated but the answer never reached the closed tab: the other tab redoes it inside the retry window', async () => {
    await withContext(async (context, survivor) => {
      await createAccount(survivor, slow.url);
      const watchSurvivor = watch(survivor);
      const before = (await refreshCookie(context))?.value ?? '';
      const victim = await context.newPage();
      let rotatedAt = 0;
      await victim.route('**/auth/refresh', async (route) => {
        // The request reaches the server (which rotates the family); then the tab is gone.
        const headers = await route.request().allHeaders();
        await fetch(`${slow.url}/auth/refresh`, {
          method: 'POST',
          headers: { cookie: headers.cookie ?? '', origin: slow.url },
        });
        rotatedAt = Date.now();
        await victim.close();
      });
      await victim.goto(slow.url).catch(() => undefined);
      await expect.poll(() => victim.isClosed()).toBe(true);
      const stored = await family(before);
      expect(stored?.previousSecretHash).toBe(sha(secretOf(before))); // rotated on the server…
      // …and the surviving tab renews right after, with the old cookie (taken as a retry).
      await expect
        .poll(() => watchSurvivor.refreshes(rotatedAt).length, { timeout: 5_000 })
        .toBeGreaterThan(0);
      await watchSurvivor.settled();
      expect((await refreshCookie(context))?.value).not.toBe(before);
      const followUp = watchSurvivor.refreshes(rotatedAt);
      expect(followUp.map((r) => r.status)).toEqual([200]);
      expect(followUp[0]!.at - rotatedAt).toBeLessThan(3_000); // inside the retry window
      // Past the window the family is still good: no reuse alarm, no sign-out.
      await sleep(3_500);
      await survivor.reload();
      await survivor.getByRole('button', { name: 'Sign out' }).waitFor();
      await addNote(survivor, 'the family survived');
      expect(reused(slow)).toEqual([]);
    });
  });
});

describe('session mode: the tabs talk too', () => {
  it('sign-out in one tab signs out the other without a reload', async () => {
    await using sessionApp = await startTestServer({}, { host: 'localhost' });
    await withContext(async (context, one) => {
      const email = await createAccount(one, sessionApp.url);
      const two = await openTab(context, sessionApp.url);
      await one.getByRole('button', { name: 'Sign out' }).click();
      await two.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 5_000 });
      // Signing in again in one tab brings the other back, still without a reload.
      await one.getByLabel('Email').fill(email);
      await one.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await one.getByRole('button', { name: 'Sign in', exact: true }).click();
      await one.getByRole('button', { name: 'Sign out' }).waitFor();
      await two.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 5_000 });
      await addNote(two, 'back in tab two');
    });
  });
});
