import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GOOD_PASSWORD,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from '../apps/reference/test/harness.js';
import { harvest, type AttackerSite, inContext, createAccount as signUp } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

const COOKIE = '__Host-Http-session';

let app: TestServer;
let browser: Browser;
let attacker: AttackerSite;

let fixture: AppInBrowser;
beforeAll(async () => {
  fixture = await startAppInBrowser();
  ({ app, browser, attacker } = fixture);
});
afterAll(() => fixture.close());

const withContext = <T>(fn: (context: BrowserContext, page: Page) => Promise<T>) =>
  inContext(browser, fn);

const createAccount = (page: Page, baseUrl = app.url, email = uniqueEmail('e2e')) =>
  signUp(page, baseUrl, email, GOOD_PASSWORD);

async function signIn(page: Page, email: string, password = GOOD_PASSWORD): Promise<void> {
  await page.goto(app.url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function sessionCookie(context: BrowserContext, url = app.url) {
  return (await context.cookies(url)).find((c) => c.name === COOKIE);
}

async function signedInUserId(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const response = await fetch('/auth/session');
    if (!response.ok) return null;
    return ((await response.json()) as { user: { id: string } }).user.id;
  });
}

async function notesSeenBy(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const response = await fetch('/api/notes');
    const body = (await response.json()) as { notes: { text: string }[] };
    return body.notes.map((n) => n.text);
  });
}

describe('session mode in a real browser', () => {
  it('a person creates an account, signs out, signs in and adds a note', async () => {
    await withContext(async (_context, page) => {
      const email = await createAccount(page);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      await signIn(page, email);
      await page.getByLabel('New note').fill('Buy milk');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByText('Buy milk').waitFor();
      expect(await notesSeenBy(page)).toEqual(['Buy milk']);
    });
  });

  it('sets the session cookie HttpOnly, Secure, SameSite=Strict, host-only', async () => {
    await withContext(async (context, page) => {
      await createAccount(page);
      const cookie = await sessionCookie(context);
      expect(cookie).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
        domain: 'localhost',
      });
    });
  });

  it('nothing page script can read contains the credential', async () => {
    await withContext(async (context, page) => {
      await createAccount(page);
      // The app's own Security view reads the same places; open it so it runs too.
      await page
        .getByRole('link', { name: 'Security' })
        .or(page.getByRole('button', { name: 'Security' }))
        .first()
        .click();
      const cookie = (await sessionCookie(context))?.value ?? '';
      const [id, secret, signature] = cookie.split('.');
      expect(secret).toHaveLength(43);
      const readable = await harvest(page);
      expect(readable).not.toContain(secret);
      expect(readable).not.toContain(signature);
      expect(readable).not.toContain(cookie);
      // The session id is a public handle, but the page has no reason to hold even that in storage.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      expect(id).toBeTruthy();
    });
  });

  it('reload keeps the user signed in', async () => {
    await withContext(async (_context, page) => {
      await createAccount(page);
      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await page.getByRole('button', { name: 'Sign in', exact: true }).count()).toBe(0);
    });
  });

  it('sign out kills the session on the server, not just in the browser', async () => {
    await withContext(async (context, page) => {
      await createAccount(page);
      const cookie = (await sessionCookie(context))?.value ?? '';
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await sessionCookie(context)).toBeUndefined();
      const replay = await fetch(`${app.url}/auth/session`, {
        headers: { cookie: `${COOKIE}=${cookie}` },
      });
      expect(replay.status).toBe(401);
    });
  });

  it('a link from another site lands signed in', async () => {
    await withContext(async (_context, page) => {
      await createAccount(page);
      const link = attacker.page('/link', `<!doctype html><a href="${app.url}/">Open the app</a>`);
      await page.goto(link);
      await page.getByRole('link', { name: 'Open the app' }).click();
      await page.waitForURL(`${app.url}/**`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
    });
  });
});

describe('account management through the page', () => {
  it('the Sessions view lists both devices; Revoke signs the other one out', async () => {
    const laptopContext = await browser.newContext();
    try {
      await withContext(async (_context, page) => {
        const email = await createAccount(page);
        const laptop = await laptopContext.newPage();
        await signIn(laptop, email);
        await page.getByRole('link', { name: 'Sessions' }).click();
        await expect
          .poll(() => page.getByRole('button', { name: 'Revoke', exact: true }).count())
          .toBe(2);
        const other = page.locator('li.session', { hasNot: page.getByText('This device') });
        await other.getByRole('button', { name: 'Revoke', exact: true }).click();
        await expect
          .poll(() => page.getByRole('button', { name: 'Revoke', exact: true }).count())
          .toBe(1);
        await laptop.reload();
        await laptop.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
        await page.reload();
        await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
      });
    } finally {
      await laptopContext.close();
    }
  });

  it('changing the password keeps this device signed in; the new password signs in elsewhere', async () => {
    await withContext(async (_context, page) => {
      const email = await createAccount(page);
      await page.getByRole('link', { name: 'Account' }).click();
      await page.getByLabel('Current password').fill(GOOD_PASSWORD);
      await page.getByLabel('New password').fill('a fresh passphrase for today');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /password/i })
        .waitFor();
      await page.getByRole('link', { name: 'Notes' }).click();
      await page.getByLabel('New note').fill('after the change');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByText('after the change').waitFor();
      const elsewhere = await browser.newContext();
      try {
        const other = await elsewhere.newPage();
        await signIn(other, email, 'a fresh passphrase for today');
      } finally {
        await elsewhere.close();
      }
    });
  });
});

describe('cross-site attacks in a real browser', () => {
  const forgeries = (target: string) => ({
    formNote: `<!doctype html><form id=f method=POST action="${target}/api/notes" enctype="text/plain">
      <input name='{"text":"pwned by form","x":"' value='"}'></form><script>f.submit()</script>`,
    formLogout: `<!doctype html><form id=f method=POST action="${target}/auth/logout"></form><script>f.submit()</script>`,
    fetches: `<!doctype html><script>
      const opts = (body) => ({ method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body });
      Promise.allSettled([
        fetch('${target}/api/notes', opts('{"text":"pwned by fetch"}')),
        fetch('${target}/auth/password', opts('{"currentPassword":"x","newPassword":"attacker chosen passphrase"}')),
        fetch('${target}/auth/logout', opts('')),
      ]).then(() => { document.title = 'done'; });
    </script>`,
  });

  async function attack(page: Page, target: string): Promise<void> {
    const pages = forgeries(target);
    for (const [name, html] of Object.entries(pages)) {
      const url = attacker.page(`/${name}-${Date.now()}`, html);
      await page.goto(url);
      await page.waitForLoadState('networkidle');
    }
  }

  it('a cross-site form POST and no-cors fetches change nothing and sign nobody out', async () => {
    await withContext(async (context, page) => {
      await createAccount(page);
      const userId = await signedInUserId(page);
      const before = (await sessionCookie(context))?.value;
      const victimPage = await context.newPage();
      await attack(victimPage, app.url);
      await page.goto(app.url);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await signedInUserId(page)).toBe(userId);
      expect(await notesSeenBy(page)).toEqual([]);
      expect((await sessionCookie(context))?.value).toBe(before);
      const changes = app.events.filter(
        (e) => (e.event === 'logout' || e.event === 'password_changed') && e.userId === userId,
      );
      expect(changes).toEqual([]);
    });
  });

  // The JSON-only body rule also stops form posts to the notes API (415), so the
  // control uses the body-less logout form, which only the three switched-off
  // defences stand in front of.
  it('control: with SameSite, the cross-origin check and the CSRF token switched off, the forged logout succeeds', async () => {
    await using weak = await startTestServer(
      {},
      {
        host: 'localhost',
        unsafe: { sameSite: 'None', disableCrossOriginCheck: true, disableCsrfToken: true },
      },
    );
    await withContext(async (context, page) => {
      await createAccount(page, weak.url);
      expect(await signedInUserId(page)).not.toBeNull();
      const url = attacker.page(`/control-${Date.now()}`, forgeries(weak.url).formLogout);
      const victimPage = await context.newPage();
      // A 204 answer cancels the form's navigation, so "load" may never come.
      await victimPage.goto(url, { waitUntil: 'commit' });
      await expect
        .poll(() => weak.events.some((e) => e.event === 'logout'), { timeout: 10_000 })
        .toBe(true);
      expect(await signedInUserId(page)).toBeNull();
      expect(weak.events.some((e) => e.event === 'logout')).toBe(true);
    });
  });

  it('the app cannot be framed by another site', async () => {
    await withContext(async (_context, page) => {
      const framing = attacker.page(
        `/frame-${Date.now()}`,
        `<!doctype html><iframe id=app src="${app.url}/" width=800 height=600></iframe>
         <iframe id=control src="/control-frame" width=400 height=200></iframe>`,
      );
      attacker.page('/control-frame', '<!doctype html><button>Sign in</button>');
      await page.goto(framing);
      await page.waitForLoadState('networkidle');
      // The control frame proves the check can see a framed button at all.
      expect(
        await page
          .frameLocator('#control')
          .getByRole('button', { name: 'Sign in', exact: true })
          .count(),
      ).toBe(1);
      const appFrame = page
        .frames()
        .find((f) => f.name() === '' && f !== page.mainFrame() && !f.url().includes('control'));
      const url = appFrame?.url() ?? '';
      expect(url.startsWith(app.url)).toBe(false);
      expect(
        await page
          .frameLocator('#app')
          .getByRole('button', { name: 'Sign in', exact: true })
          .count(),
      ).toBe(0);
    });
  });
});
