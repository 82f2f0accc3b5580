/**
 * The authenticator app (TOTP) in real Chromium, driven through the reference app's page as
 * a person would: set up from the Account view (the code computed here from the secret the
 * page shows as text), sign out, sign in with the password and then `Authentication code` →
 * `Verify`; a recovery code works once; the account is deleted from the page (through the
 * re-authentication dialog) and its session is dead.
 */
import { readFile } from 'node:fs/promises';
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, uniqueEmail } from '../apps/reference/test/harness.js';
import { createAccount, inContext } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

const STEP_MS = 30_000;

/**
 * Codes for time steps the server has not accepted yet: now's, else the next one (the
 * server accepts one step of drift), so the test never waits for the clock.
 */
function codes(secret: string) {
  const totp = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 });
  let last = -1;
  return () => {
    const now = Date.now();
    const step = Math.max(Math.floor(now / STEP_MS), last + 1);
    if (step > Math.floor(now / STEP_MS) + 1) throw new Error('both usable steps spent');
    last = step;
    return totp.generate({ timestamp: step * STEP_MS });
  };
}

async function openAccount(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
}

async function passwordStep(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Authentication code').waitFor();
}

async function sessionStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/auth/session')).status);
}

let fixture: AppInBrowser;
beforeAll(async () => {
  fixture = await startAppInBrowser();
});
afterAll(() => fixture.close());

describe('authenticator app in a real browser', () => {
  it('set up, sign in with a code, a recovery code once, delete the account', async () => {
    const { app, browser } = fixture;
    await inContext(browser, async (context, page) => {
      const email = uniqueEmail('mfa-e2e');
      await createAccount(page, app.url, email, GOOD_PASSWORD);
      await openAccount(page);

      // Set up: a fresh sign-in is a recent proof, so no dialog yet.
      await page.getByRole('button', { name: 'Set up authenticator app' }).click();
      const secret = (await page.getByLabel('Secret key').textContent()) ?? '';
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      // The QR code is drawn in the page, as an image.
      const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
      expect(await qr.getAttribute('src')).toMatch(/^data:image\/gif;base64,/);
      const next = codes(secret);
      await page.getByLabel('Code from the app').fill(next());
      await page.getByRole('button', { name: 'Turn on' }).click();
      const list = page.getByRole('list', { name: 'Recovery codes' });
      await list.waitFor();
      const recovery = (await list.getByRole('listitem').allTextContents()).map((t) => t.trim());
      expect(recovery).toHaveLength(10);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download recovery codes' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe('latchkey-recovery-codes.txt');
      const saved = await readFile((await download.path()) ?? '', 'utf8');
      for (const code of recovery) expect(saved).toContain(code);
      await page.getByRole('button', { name: 'I have saved them' }).click();
      // Shown once: gone from the page now.
      expect(await list.count()).toBe(0);
      await page.getByRole('button', { name: 'Turn off authenticator app' }).waitFor();

      // Password, then the code.
      await signOut(page);
      await passwordStep(page, email);
      expect(await sessionStatus(page)).toBe(401);
      const pending = (await context.cookies(app.url)).find((c) => c.name === '__Host-Http-mfa');
      expect(pending).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
      await page.getByLabel('Authentication code').fill(next());
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await sessionStatus(page)).toBe(200);

      // A recovery code works once.
      const [first, second] = recovery as [string, string];
      await signOut(page);
      await passwordStep(page, email);
      await page.getByRole('link', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(first);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await signOut(page);
      await passwordStep(page, email);
      await page.getByRole('link', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code').fill(first);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').getByText('already used').waitFor();
      await page.getByLabel('Recovery code').fill(second);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();

      // Delete the account. The server is made to ask for a fresh proof once (this sign-in
      // is too recent to need one), so the page's re-authentication dialog is exercised: the
      // password goes to the real `POST /auth/reauth`, then the deletion is sent again.
      let stale = true;
      await page.route('**/auth/account', async (route) => {
        if (stale && route.request().method() === 'DELETE') {
          stale = false;
          await route.fulfill({
            status: 401,
            contentType: 'application/json',
            body: JSON.stringify({
              error: { code: 'reauth_required', message: 'Confirm it is you.' },
            }),
          });
          return;
        }
        await route.continue();
      });
      const session = (await context.cookies(app.url)).find(
        (c) => c.name === '__Host-Http-session',
      );
      expect(session).toBeDefined();
      await openAccount(page);
      await page.getByRole('button', { name: 'Delete account' }).click();
      await page.getByRole('button', { name: 'Delete my account for good' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.getByLabel('Password').fill('not the password at all, surely');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByText('That password is not right.').waitFor();
      await dialog.getByLabel('Password').fill(GOOD_PASSWORD);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText('Your account was deleted.').waitFor();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(stale).toBe(false);

      // The old session cookie is dead on the server, whoever presents it.
      const replay = await fetch(`${app.url}/auth/session`, {
        headers: { cookie: `${session?.name}=${session?.value}` },
      });
      expect(replay.status).toBe(401);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').getByText('Email or password is incorrect.').waitFor();
      expect(app.events.some((e) => e.event === 'account_deleted')).toBe(true);
    });
    // One person's whole journey: a few dozen page steps on a shared 2-core machine.
  }, 180_000);
});
