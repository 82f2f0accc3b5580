/**
 * Passkeys in real Chromium, in both modes: the reference app driven through its page, with
 * Chromium's DevTools-protocol virtual authenticator (CTAP2, internal, resident keys, user
 * verification) standing in for a platform authenticator. A passkey is registered from the
 * Account view, the person signs out and back in with `Sign in with a passkey` without typing
 * an email; an authenticator that does not verify the user, a removed passkey and a replayed
 * assertion are all refused.
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, uniqueEmail } from '../apps/reference/test/harness.js';
import { createAccount, inContext } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

/** A virtual platform authenticator on `page`'s tab: resident keys, user verification. */
async function addAuthenticator(
  context: BrowserContext,
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function openAccount(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
}

/** Adds a passkey from the Account view and waits until it is listed. */
async function addPasskey(page: Page, name: string): Promise<void> {
  await openAccount(page);
  await page.getByLabel('Passkey name').fill(name);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('list', { name: 'Your passkeys' }).getByText(name).waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
}

/** What the server answered the page's `POST /auth/passkeys/login`, and what the page sent. */
async function passkeySignIn(page: Page): Promise<{ status: number; sent: string }> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.url().endsWith('/auth/passkeys/login') && r.request().method() === 'POST',
    ),
    page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
  ]);
  return { status: response.status(), sent: response.request().postData() ?? '' };
}

async function passkeyError(page: Page): Promise<string> {
  const alert = page.getByRole('alert').filter({ hasText: /passkey/i });
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

describe.each(['session', 'token'] as const)('passkeys in a real browser (%s mode)', (mode) => {
  let fixture: AppInBrowser;
  beforeAll(async () => {
    fixture = await startAppInBrowser({ LATCHKEY_MODE: mode });
  });
  afterAll(() => fixture.close());

  const withContext = <T>(fn: (context: BrowserContext, page: Page) => Promise<T>) =>
    inContext(fixture.browser, fn);

  it('registers a passkey, then signs in with it without typing an email', async () => {
    await withContext(async (context, page) => {
      await addAuthenticator(context, page);
      const email = uniqueEmail(`passkey-${mode}`);
      // A fresh sign-in is the recent proof of identity that adding a passkey needs.
      await createAccount(page, fixture.app.url, email, GOOD_PASSWORD);
      await addPasskey(page, 'Laptop');
      await signOut(page);
      await expect(page.getByLabel('Email').inputValue()).resolves.toBe('');
      const { status } = await passkeySignIn(page);
      expect(status).toBe(200);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await expect(page.locator('.who-email').textContent()).resolves.toBe(email);

      const events = fixture.app.events;
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'mfa_changed', factor: 'passkey', change: 'added' }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({
          event: 'login_succeeded',
          method: 'passkey',
          userId: expect.any(String),
        }),
      );

      // The list shows when it was last used, and the user's factors include the passkey.
      await openAccount(page);
      const item = page.getByRole('listitem').filter({ hasText: 'Laptop' });
      await expect(item.textContent()).resolves.not.toContain('Last used never');
      const mfa = await page.evaluate(async (tokenMode) => {
        if (tokenMode) return null;
        const response = await fetch('/auth/session');
        return ((await response.json()) as { user: { mfa: string[] } }).user.mfa;
      }, mode === 'token');
      if (mode === 'session') expect(mfa).toEqual(['passkey']);
    });
  });

  it('refuses an authenticator that does not verify the user', async () => {
    await withContext(async (context, page) => {
      const { cdp, authenticatorId } = await addAuthenticator(context, page);
      await createAccount(page, fixture.app.url, uniqueEmail(`passkey-uv-${mode}`), GOOD_PASSWORD);
      await addPasskey(page, 'Phone');
      await signOut(page);
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
      const failed = fixture.app.events.length;
      const answers: number[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('/auth/passkeys/login')) answers.push(r.status());
      });
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      const shown = await passkeyError(page);
      // Chromium itself refuses (NotAllowedError) when the options require user verification
      // and the authenticator cannot give it, so the page never sends anything.
      expect(shown).toMatch(/cancelled|not accepted/);
      expect(answers.every((status) => status === 401)).toBe(true);

      // A client that ignores the requirement: the same browser, asked with verification
      // `discouraged`, signs without it (UV flag unset); the server refuses that assertion.
      const ignored = await page.evaluate(async () => {
        const b64 = (text: string) =>
          Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
        const options = (await (
          await fetch('/auth/passkeys/login/options', { method: 'POST' })
        ).json()) as { challenge: string; rpId: string };
        const credential = (await navigator.credentials.get({
          publicKey: {
            challenge: b64(options.challenge),
            rpId: options.rpId,
            userVerification: 'discouraged',
            allowCredentials: [],
          },
        })) as PublicKeyCredential & { toJSON(): unknown };
        const response = await fetch('/auth/passkeys/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(credential.toJSON()),
        });
        return { status: response.status, body: (await response.json()) as unknown };
      });
      expect(ignored).toEqual({
        status: 401,
        body: { error: { code: 'invalid_credentials', message: expect.any(String) } },
      });
      await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
      // Whether Chromium refuses to sign without verification or signs with UV unset and the
      // server refuses it, no session started.
      expect(fixture.app.events.slice(failed).filter((e) => e.event === 'login_succeeded')).toEqual(
        [],
      );
      const signedIn = await page.evaluate(async () => (await fetch('/auth/session')).status);
      expect(signedIn).toBe(401);
    });
  });

  it('no longer signs in with a removed passkey', async () => {
    await withContext(async (context, page) => {
      await addAuthenticator(context, page);
      await createAccount(page, fixture.app.url, uniqueEmail(`passkey-rm-${mode}`), GOOD_PASSWORD);
      await addPasskey(page, 'Old key');
      await page.getByRole('button', { name: 'Remove Old key' }).click();
      await page.getByText('No passkeys yet.').waitFor();
      await signOut(page);
      // The authenticator still holds the credential and answers; the server no longer knows it.
      const { status } = await passkeySignIn(page);
      expect(status).toBe(401);
      await passkeyError(page);
      await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
      expect(fixture.app.events).toContainEqual(
        expect.objectContaining({ event: 'mfa_changed', factor: 'passkey', change: 'removed' }),
      );
    });
  });

  it('refuses a replayed assertion: its challenge was used', async () => {
    await withContext(async (context, page) => {
      await addAuthenticator(context, page);
      await createAccount(
        page,
        fixture.app.url,
        uniqueEmail(`passkey-replay-${mode}`),
        GOOD_PASSWORD,
      );
      await addPasskey(page, 'Key');
      await signOut(page);
      const { status, sent } = await passkeySignIn(page);
      expect(status).toBe(200);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(JSON.parse(sent)).toMatchObject({ type: 'public-key', response: {} });

      // The very assertion the browser sent, sent again (as a same-origin request would be).
      const replay = await fetch(`${fixture.app.url}/auth/passkeys/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: fixture.app.url },
        body: sent,
      });
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe(
        'invalid_credentials',
      );
      expect(replay.headers.getSetCookie()).toEqual([]);
      expect(fixture.app.events.at(-1)).toMatchObject({
        event: 'login_failed',
        method: 'passkey',
      });
    });
  });
});
