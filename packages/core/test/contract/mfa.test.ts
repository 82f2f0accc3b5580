/**
 * API.md *Second factor and passkeys* (TOTP part), `POST /auth/reauth` and
 * `DELETE /auth/account`, in both modes, through the public handler with an injected
 * clock: enrolment, the two-step sign-in and its pending cookie, replay and lockout,
 * recovery codes, step-up (required, satisfied, expired) and account deletion.
 */
import { MFA_COOKIE, type LatchkeyStore } from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  Client,
  credentialCookie,
  expectError,
  harness,
  MODES,
  NEW_PASSWORD,
  PASSWORD,
  signedIn,
  signedUp,
  type Harness,
} from './harness.js';

const STEP_MS = 30_000;
const FIVE_MINUTES = 5 * 60_000;

const codeAt = (secret: string, at: number) =>
  new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });

/** Signs up, enrols TOTP and confirms it; moves the clock past the step used. */
async function withTotp(h: Harness) {
  const account = await signedUp(h);
  const { client } = account;
  const enrol = await client.send('POST', '/auth/mfa/totp');
  expect(enrol.status).toBe(200);
  const { secret, otpauthUrl } = enrol.json as { secret: string; otpauthUrl: string };
  const confirm = await client.send('POST', '/auth/mfa/totp/confirm', {
    json: { code: codeAt(secret, h.clock.now()) },
  });
  expect(confirm.status).toBe(200);
  h.clock.advance(STEP_MS);
  return {
    ...account,
    secret,
    otpauthUrl,
    recoveryCodes: confirm.json.recoveryCodes as string[],
    code: () => codeAt(secret, h.clock.now()),
  };
}

/** The first step of a sign-in for an account with TOTP: a client holding only the pending cookie. */
async function passwordStep(h: Harness, email: string, ip = '198.51.100.20') {
  const client = new Client(h, ip, 'second-device');
  const reply = await client.send('POST', '/auth/login', { json: { email, password: PASSWORD } });
  return { client, reply };
}

describe.each(MODES)('%s mode: TOTP enrolment', (mode) => {
  it('POST /auth/mfa/totp gives a seed that is not active until a code confirms it', async () => {
    const h = await harness(mode);
    const { client, email } = await signedUp(h);
    const enrol = await client.send('POST', '/auth/mfa/totp');
    expect(enrol.status).toBe(200);
    expect(Object.keys(enrol.json).sort()).toEqual(['otpauthUrl', 'secret']);
    expect(enrol.json.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(enrol.json.otpauthUrl as string);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(url.searchParams.get('secret')).toBe(enrol.json.secret);
    expect(url.searchParams.get('algorithm')).toBe('SHA1');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
    // Not confirmed: the password alone still signs in.
    const other = await signedIn(h, email);
    expect(other.reply.json.user.mfa).toEqual([]);

    const wrong = await client.send('POST', '/auth/mfa/totp/confirm', { json: { code: '000000' } });
    expectError(wrong, 'invalid_token');
    const confirm = await client.send('POST', '/auth/mfa/totp/confirm', {
      json: { code: codeAt(enrol.json.secret, h.clock.now()) },
    });
    expect(confirm.status).toBe(200);
    expect(Object.keys(confirm.json)).toEqual(['recoveryCodes']);
    expect(confirm.json.recoveryCodes).toHaveLength(10);
    expect((await client.session()).json.user.mfa).toEqual(['totp']);
    // The confirmation's code cannot be used again.
    h.clock.advance(1000);
    const first = await passwordStep(h, email);
    const replay = await first.client.send('POST', '/auth/login/mfa', {
      json: { code: codeAt(enrol.json.secret, h.clock.now() - 1000) },
    });
    expectError(replay, 'invalid_token');
  });
});

describe.each(MODES)('%s mode: two-step sign-in', (mode) => {
  it('password → mfaRequired and a pending cookie, no session; the code → { user } and a session', async () => {
    const h = await harness(mode);
    const { client, email, user, code } = await withTotp(h);
    expect((await client.send('POST', '/auth/logout')).status).toBe(204);

    const { client: browser, reply } = await passwordStep(h, email);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
    expect(reply.cookies.map((c) => c.name)).toEqual([MFA_COOKIE]);
    expect(reply.cookie(MFA_COOKIE)?.attributes).toEqual({
      path: '/',
      'max-age': '300',
      httponly: '',
      secure: '',
      samesite: 'Strict',
    });
    expect(reply.cookie(MFA_COOKIE)?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.accessToken).toBeNull();

    const done = await browser.send('POST', '/auth/login/mfa', { json: { code: code() } });
    expect(done.status).toBe(200);
    expect(done.json.user).toMatchObject({ id: user.id, email, mfa: ['totp'] });
    expect(done.cookie(credentialCookie(mode))?.value).toBeTruthy();
    expect(done.cookie(MFA_COOKIE)?.attributes['max-age']).toBe('0');
    if (mode === 'token') expect(typeof done.json.accessToken).toBe('string');
    const me = await browser.send('GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.json.userId).toBe(user.id);
  });

  it('the pending cookie is useless on every other route', async () => {
    const h = await harness(mode);
    const { email } = await withTotp(h);
    const { client: browser } = await passwordStep(h, email);
    expect([...browser.jar.keys()]).toEqual([MFA_COOKIE]);
    // Even presented under the credential cookie's name, it is no credential.
    const pending = browser.jar.get(MFA_COOKIE) as string;
    const forged = new Client(h);
    forged.jar.set(credentialCookie(mode), pending);
    for (const c of [browser, forged]) {
      expectError(await c.send('GET', '/auth/session'), 'unauthenticated');
      expectError(await c.send('GET', '/api/me'), 'unauthenticated');
      expectError(await c.send('GET', '/auth/sessions'), 'unauthenticated');
      expectError(await c.send('POST', '/auth/mfa/totp'), 'unauthenticated');
      expectError(
        await c.send('POST', '/auth/reauth', { json: { password: PASSWORD } }),
        'unauthenticated',
      );
      expectError(await c.send('DELETE', '/auth/account'), 'unauthenticated');
      if (mode === 'token') expectError(await c.send('POST', '/auth/refresh'), 'unauthenticated');
    }
  });

  it('the pending sign-in ends after 5 minutes, and is single use', async () => {
    const h = await harness(mode);
    const { email, code } = await withTotp(h);
    const late = await passwordStep(h, email);
    h.clock.advance(FIVE_MINUTES);
    const expired = await late.client.send('POST', '/auth/login/mfa', { json: { code: code() } });
    expectError(expired, 'unauthenticated');
    expect(late.client.jar.has(MFA_COOKIE)).toBe(false);

    const once = await passwordStep(h, email);
    const pending = once.client.jar.get(MFA_COOKIE) as string;
    expect(
      (await once.client.send('POST', '/auth/login/mfa', { json: { code: code() } })).status,
    ).toBe(200);
    h.clock.advance(STEP_MS);
    const again = new Client(h);
    again.jar.set(MFA_COOKIE, pending);
    expectError(
      await again.send('POST', '/auth/login/mfa', { json: { code: code() } }),
      'unauthenticated',
    );
  });

  it('a replayed code is invalid_token; wrong codes lock the account out', async () => {
    const h = await harness(mode);
    const { email, code } = await withTotp(h);
    const first = await passwordStep(h, email);
    const used = code();
    expect(
      (await first.client.send('POST', '/auth/login/mfa', { json: { code: used } })).status,
    ).toBe(200);
    const second = await passwordStep(h, email);
    expectError(
      await second.client.send('POST', '/auth/login/mfa', { json: { code: used } }),
      'invalid_token',
    );
    // Default limit 5; the replay above was the first failure.
    for (let i = 0; i < 4; i++) {
      const wrong = await second.client.send('POST', '/auth/login/mfa', {
        json: { code: '123456' },
      });
      expectError(wrong, 'invalid_token');
    }
    h.clock.advance(STEP_MS);
    const locked = await second.client.send('POST', '/auth/login/mfa', { json: { code: code() } });
    expectError(locked, 'rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // A new password step does not clear the count.
    const retry = await passwordStep(h, email, '203.0.113.99');
    expectError(retry.reply, 'rate_limited');
  });

  it('a recovery code finishes a sign-in once', async () => {
    const h = await harness(mode);
    const { email, recoveryCodes } = await withTotp(h);
    const recoveryCode = recoveryCodes[0] as string;
    const first = await passwordStep(h, email);
    const done = await first.client.send('POST', '/auth/login/mfa', { json: { recoveryCode } });
    expect(done.status).toBe(200);
    const second = await passwordStep(h, email);
    expectError(
      await second.client.send('POST', '/auth/login/mfa', { json: { recoveryCode } }),
      'invalid_token',
    );
    const other = await second.client.send('POST', '/auth/login/mfa', {
      json: { recoveryCode: recoveryCodes[1] },
    });
    expect(other.status).toBe(200);
  });

  it('the body names one proof', async () => {
    const h = await harness(mode);
    const { email, code, recoveryCodes } = await withTotp(h);
    const { client } = await passwordStep(h, email);
    expectError(await client.send('POST', '/auth/login/mfa', { json: {} }), 'invalid_request');
    const both = { code: code(), recoveryCode: recoveryCodes[0] };
    expectError(await client.send('POST', '/auth/login/mfa', { json: both }), 'invalid_request');
  });
});

describe.each(MODES)('%s mode: step-up', (mode) => {
  it('required after 5 minutes, satisfied by POST /auth/reauth, expired 5 minutes later', async () => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    // A fresh sign-in counts as recent.
    expect((await client.send('DELETE', '/auth/sessions')).status).toBe(204);
    h.clock.advance(FIVE_MINUTES);
    if (mode === 'token') await client.send('POST', '/auth/refresh');
    expectError(await client.send('DELETE', '/auth/sessions'), 'reauth_required');
    expectError(await client.send('POST', '/auth/mfa/totp'), 'reauth_required');
    expectError(await client.send('DELETE', '/auth/mfa/totp'), 'reauth_required');
    expectError(await client.send('DELETE', '/auth/account'), 'reauth_required');

    const wrong = await client.send('POST', '/auth/reauth', { json: { password: NEW_PASSWORD } });
    expectError(wrong, 'invalid_credentials');
    expectError(await client.send('POST', '/auth/reauth', { json: {} }), 'invalid_request');
    expect(
      (await client.send('POST', '/auth/reauth', { json: { password: PASSWORD } })).status,
    ).toBe(204);
    expect((await client.send('DELETE', '/auth/sessions')).status).toBe(204);

    h.clock.advance(FIVE_MINUTES);
    if (mode === 'token') await client.send('POST', '/auth/refresh');
    expectError(await client.send('DELETE', '/auth/sessions'), 'reauth_required');
  });

  it('a TOTP code is a proof too, accepted once', async () => {
    const h = await harness(mode);
    const { client, code } = await withTotp(h);
    h.clock.advance(FIVE_MINUTES);
    if (mode === 'token') await client.send('POST', '/auth/refresh');
    expectError(await client.send('DELETE', '/auth/mfa/totp'), 'reauth_required');
    const used = code();
    expect((await client.send('POST', '/auth/reauth', { json: { code: used } })).status).toBe(204);
    expectError(
      await client.send('POST', '/auth/reauth', { json: { code: used } }),
      'invalid_token',
    );
    expect((await client.send('DELETE', '/auth/mfa/totp')).status).toBe(204);
    expect((await client.session()).json.user.mfa).toEqual([]);
  });

  it('another session is not stepped up by this one', async () => {
    const h = await harness(mode);
    const { client, email } = await signedUp(h);
    const other = await signedIn(h, email);
    h.clock.advance(FIVE_MINUTES);
    for (const c of [client, other.client])
      if (mode === 'token') await c.send('POST', '/auth/refresh');
    expect(
      (await client.send('POST', '/auth/reauth', { json: { password: PASSWORD } })).status,
    ).toBe(204);
    expectError(await other.client.send('DELETE', '/auth/sessions'), 'reauth_required');
  });

  it('POST /auth/password takes the current password as its proof (no separate step-up)', async () => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    h.clock.advance(FIVE_MINUTES + 1000);
    if (mode === 'token') await client.send('POST', '/auth/refresh');
    const changed = await client.send('POST', '/auth/password', {
      json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(204);
  });
});

describe.each(MODES)('%s mode: DELETE /auth/account', (mode) => {
  it('deletes the user, every session and record, clears the cookie and calls the hook', async () => {
    const store: LatchkeyStore = createMemoryStore();
    const deleted: string[] = [];
    const events: string[] = [];
    const h = await harness(mode, {
      store,
      onAccountDeleted: (userId) => void deleted.push(userId),
      logger: (entry) => void events.push(entry.event),
    });
    const { client, email, user, code } = await withTotp(h);
    const other = await passwordStep(h, email);
    expect(
      (await other.client.send('POST', '/auth/login/mfa', { json: { code: code() } })).status,
    ).toBe(200);
    const pending = await passwordStep(h, email, '203.0.113.5');
    h.clock.advance(STEP_MS);
    if (mode === 'token') await client.send('POST', '/auth/refresh');

    const gone = await client.send('DELETE', '/auth/account');
    expect(gone.status).toBe(204);
    expect(gone.cookie(credentialCookie(mode))?.attributes['max-age']).toBe('0');
    expect(gone.headers.get('clear-site-data')).toBe('"storage"');
    expect(deleted).toEqual([user.id]);
    expect(events).toContain('account_deleted');

    expectError(await client.send('GET', '/api/me'), 'unauthenticated');
    expectError(await other.client.send('GET', '/api/me'), 'unauthenticated');
    expectError(await other.client.send('GET', '/auth/session'), 'unauthenticated');
    if (mode === 'token')
      expectError(await other.client.send('POST', '/auth/refresh'), 'unauthenticated');
    expectError(
      await pending.client.send('POST', '/auth/login/mfa', { json: { code: code() } }),
      'unauthenticated',
    );
    expect(await store.users.getUserById(user.id)).toBeNull();
    expect(await store.sessions.listUserSessions(user.id, h.clock.now())).toEqual([]);
    for (const kind of ['totp', 'recovery-code', 'mfa-pending', 'reauth']) {
      expect(await store.records.listUserRecords(kind, user.id, h.clock.now())).toEqual([]);
    }
    const again = await new Client(h).send('POST', '/auth/login', {
      json: { email, password: PASSWORD },
    });
    expectError(again, 'invalid_credentials');
  });

  it('a hook that fails keeps the account (signed out), and the deletion can be repeated', async () => {
    let fail = true;
    const h = await harness(mode, {
      onAccountDeleted: () => {
        if (fail) throw new Error('notes database down');
      },
    });
    const { client, email } = await signedUp(h);
    const failed = await client.send('DELETE', '/auth/account');
    expectError(failed, 'store_unavailable');
    expectError(await client.send('GET', '/api/me'), 'unauthenticated');
    fail = false;
    const back = await signedIn(h, email);
    expect((await back.client.send('DELETE', '/auth/account')).status).toBe(204);
    expectError(await back.client.send('GET', '/api/me'), 'unauthenticated');
  });
});
