import type { ParsedMail } from 'mailparser';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { Agent, GOOD_PASSWORD, registered, uniqueEmail } from '../apps/reference/test/harness.js';
import { linkToken, startMailSink, type MailSink } from '../apps/reference/test/smtp.js';
import { createAccount, harvest, inContext } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

/*
 * Password reset and email verification as a person does them, in Chromium, with the
 * links read from mail a real SMTP peer received.
 */

const NEW_PASSWORD = 'a brand new violet teapot orbiting slowly';

let sink: MailSink;
let fixture: AppInBrowser;
beforeAll(async () => {
  sink = await startMailSink();
  fixture = await startAppInBrowser({ LATCHKEY_SMTP_URL: sink.url });
});
afterAll(async () => {
  await fixture.close();
  await sink.close();
});

/** The first message to `email` whose subject contains `subject`. */
async function mailFor(email: string, subject: string): Promise<ParsedMail> {
  for (;;) {
    const found = sink.to(email).find((m) => m.subject?.includes(subject));
    if (found) return found;
    await sink.next(email, sink.to(email).length);
  }
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto(fixture.app.url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe('account recovery in a real browser', () => {
  it('the banner’s “Send link” mails a link; the sign-up’s link verifies the email', async () => {
    const { browser, app } = fixture;
    const email = uniqueEmail('e2e-verify');
    await inContext(browser, async (_context, old) => {
      await createAccount(old, app.url, email, GOOD_PASSWORD);
      // Not verified yet: the banner offers a new link.
      const banner = old.getByRole('region', { name: 'Email verification' });
      await banner.getByText('Please verify your email address').waitFor();
      await banner.getByRole('button', { name: 'Send link' }).click();
      await banner.getByText('Check your email').waitFor();

      // The sign-up's link, opened in another browser: one press verifies the address.
      const { link: verifyLink } = linkToken(await mailFor(email, 'Verify'), 'verify');
      await inContext(browser, async (_c, page) => {
        await page.goto(verifyLink);
        expect(page.url()).toBe(`${app.url}/verify`);
        await page.getByRole('button', { name: 'Verify email' }).click();
        await page.getByText('Your email address is verified.').waitFor();
      });
      await old.reload();
      await old.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await old.getByRole('region', { name: 'Email verification' }).count()).toBe(0);
    });
  });

  // Three browsers and the strength worker's dictionaries on a shared 2-core machine: a
  // longer budget than the suite's default (it waits for pages, never for time).
  it(
    'forgot → mail → reset: every old session ends, the old password is refused, the new one works',
    { timeout: 150_000 },
    async () => {
      const { browser, app } = fixture;
      const email = uniqueEmail('e2e-reset');
      await inContext(browser, async (_context, old) => {
        await createAccount(old, app.url, email, GOOD_PASSWORD);

        // Forgot password, from a second browser.
        await inContext(browser, async (_c, page) => {
          await page.goto(app.url);
          await page.getByRole('button', { name: 'Forgot password?' }).click();
          await page.getByLabel('Email').fill(email);
          await page.getByRole('button', { name: 'Send reset link' }).click();
          await page.getByText('Check your email').waitFor();

          const { link, token } = linkToken(await mailFor(email, 'Reset'), 'reset');
          await page.goto(link);
          await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
          // The token left the address bar before anything else ran, and no script can find it.
          expect(page.url()).toBe(`${app.url}/reset`);
          expect(await harvest(page)).not.toContain(token);
          await page.getByLabel('New password').fill(NEW_PASSWORD);
          // The strength feedback the sign-up form has.
          await page.getByText(/(Good|Strong) password\./).waitFor();
          await page.getByRole('button', { name: 'Set new password' }).click();
          await page.getByText('Your password has been changed.').waitFor();
        });

        // The old browser's session is over.
        await old.reload();
        await old.getByRole('button', { name: 'Create account' }).waitFor();
      });

      await inContext(browser, async (_c, page) => {
        await signIn(page, email, GOOD_PASSWORD);
        await page.getByText('Email or password is incorrect.').waitFor();
        await signIn(page, email, NEW_PASSWORD);
        await page.getByRole('button', { name: 'Sign out' }).waitFor();
      });

      // The same link twice: a clear message, nothing changes.
      await inContext(browser, async (_c, page) => {
        const { link } = linkToken(await mailFor(email, 'Reset'), 'reset');
        await page.goto(link);
        await page.getByLabel('New password').fill('yet another quite long passphrase here');
        await page.getByRole('button', { name: 'Set new password' }).click();
        await page.getByText(/This reset link is invalid, already used or expired/).waitFor();
        await page.getByRole('link', { name: 'Back to sign in' }).waitFor();
      });
    },
  );

  it('with TOTP on, the reset page asks for a code and the link still works', async () => {
    const { agent, email } = await registered(fixture.app.url);
    const begun = await agent.unsafe('POST', '/auth/mfa/totp');
    const code = TOTP.generate({
      secret: Secret.fromBase32(begun.json.secret as string),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      timestamp: Date.now(),
    });
    const confirmed = await agent.unsafe('POST', '/auth/mfa/totp/confirm', { code });
    const [recoveryCode] = confirmed.json.recoveryCodes as string[];
    expect(
      (
        await new Agent(fixture.app.url).request('POST', '/auth/password/forgot', {
          json: { email },
        })
      ).status,
    ).toBe(202);
    const { link } = linkToken(await mailFor(email, 'Reset'), 'reset');

    await inContext(fixture.browser, async (_c, page) => {
      await page.goto(link);
      await page.getByLabel('New password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.getByText(/enter a code from your authenticator app or a recovery code/).waitFor();
      await page.getByLabel('Authentication or recovery code').fill(recoveryCode!);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.getByText('Your password has been changed.').waitFor();
    });
    expect((await agent.request('GET', '/auth/session')).status).toBe(401);
  });

  it('a forgot request for an unknown email says the same thing', async () => {
    await inContext(fixture.browser, async (_c, page) => {
      await page.goto(fixture.app.url);
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await page.getByLabel('Email').fill(uniqueEmail('e2e-nobody'));
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await page.getByText('Check your email').waitFor();
    });
  });

  it('a link without its token, and a used verification link, get a clear message', async () => {
    await inContext(fixture.browser, async (_c, page) => {
      await page.goto(`${fixture.app.url}/reset`);
      await page.getByText(/This link is incomplete/).waitFor();
      await page.goto(`${fixture.app.url}/verify#token=${'A'.repeat(43)}`);
      expect(page.url()).toBe(`${fixture.app.url}/verify`);
      await page.getByRole('button', { name: 'Verify email' }).click();
      await page.getByText(/This verification link is invalid, already used or expired/).waitFor();
    });
  });
});
