/**
 * API.md *Second factor and passkeys* (passkey part) and the passkey proof of
 * `POST /auth/reauth`, in both modes, through the public handler with an injected clock and a
 * software authenticator: the answer shapes, a passkey sign-in as a whole sign-in (new
 * credential and device cookies, no second step), step-up (required, then satisfied by a
 * passkey), another user's passkey, and malformed or cross-site requests.
 */
import { DEVICE_COOKIE } from '@latchkey/core';
import { describe, expect, it } from 'vitest';
import { SoftAuthenticator } from '../soft-authenticator.js';
import {
  Client,
  credentialCookie,
  expectError,
  harness,
  MODES,
  ORIGIN,
  signedUp,
  type Harness,
} from './harness.js';

const FIVE_MINUTES = 5 * 60_000;
const authenticator = () => new SoftAuthenticator(new URL(ORIGIN).hostname, ORIGIN);

/** Signs up and registers a passkey (the fresh sign-in is the recent proof it needs). */
async function withPasskey(h: Harness, name = 'Laptop') {
  const account = await signedUp(h);
  const key = authenticator();
  const options = await account.client.send('POST', '/auth/passkeys/register/options');
  expect(options.status).toBe(200);
  const created = await account.client.send('POST', '/auth/passkeys/register', {
    json: { ...key.create(options.json), name },
  });
  expect(created.status).toBe(201);
  return { ...account, key, passkey: created.json.passkey as { id: string; name: string } };
}

/** A fresh browser without any cookie: login options, then the assertion. */
async function passkeySignIn(h: Harness, key: SoftAuthenticator, client = new Client(h)) {
  const options = await client.send('POST', '/auth/passkeys/login/options');
  expect(options.status).toBe(200);
  const assertion = key.get(options.json);
  return {
    client,
    assertion,
    reply: await client.send('POST', '/auth/passkeys/login', { json: assertion }),
  };
}

describe.each(MODES)('%s mode: passkeys', (mode) => {
  it('registers a passkey with the API.md shapes and lists it', async () => {
    const h = await harness(mode);
    const account = await signedUp(h, { name: 'Ada' });
    const options = await account.client.send('POST', '/auth/passkeys/register/options');
    expect(options.json).toMatchObject({
      rp: { id: 'app.example.test' },
      user: { name: account.email, displayName: 'Ada' },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: 'none',
    });
    const key = authenticator();
    const created = await account.client.send('POST', '/auth/passkeys/register', {
      json: { ...key.create(options.json), name: 'Laptop' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      passkey: { id: expect.any(String), name: 'Laptop', createdAt: expect.any(String) },
    });
    const list = await account.client.send('GET', '/auth/passkeys');
    expect(list.json).toEqual({
      passkeys: [{ ...created.json.passkey, lastUsedAt: null }],
    });
    const session = await account.client.send('GET', '/auth/session');
    expect(session.json.user.mfa).toEqual(['passkey']);
  });

  it('signs in with a passkey alone: a new session, the device cookie, no second step', async () => {
    const h = await harness(mode);
    const { key, user } = await withPasskey(h);
    const { client, reply } = await passkeySignIn(h, key);
    expect(reply.status).toBe(200);
    expect(reply.json.user).toMatchObject({ id: user.id, mfa: ['passkey'] });
    if (mode === 'token') expect(reply.json.accessToken).toEqual(expect.any(String));
    else expect(reply.json).toEqual({ user: expect.any(Object) });
    expect(reply.cookie(credentialCookie(mode))?.value).toBeTruthy();
    expect(reply.cookie(DEVICE_COOKIE)?.value).toBeTruthy();
    const me = await client.send('GET', '/api/me');
    expect(me.json.userId).toBe(user.id);
  });

  it('refuses a replayed assertion without a cookie or a session', async () => {
    const h = await harness(mode);
    const { key } = await withPasskey(h);
    const { assertion, reply } = await passkeySignIn(h, key);
    expect(reply.status).toBe(200);
    const replay = await new Client(h).send('POST', '/auth/passkeys/login', { json: assertion });
    expectError(replay, 'invalid_credentials');
    expect(replay.cookies).toEqual([]);
  });

  it('adding and removing need a recent proof; a passkey assertion at /auth/reauth is one', async () => {
    const h = await harness(mode);
    const { client, key, passkey } = await withPasskey(h);
    h.clock.advance(FIVE_MINUTES + 1000);
    if (mode === 'token') {
      // Keep the bearer token alive across the jump (it lives 10 minutes).
      expect((await client.send('GET', '/auth/passkeys')).status).toBe(200);
    }
    expectError(await client.send('POST', '/auth/passkeys/register/options'), 'reauth_required');
    expectError(await client.send('DELETE', `/auth/passkeys/${passkey.id}`), 'reauth_required');

    const options = await client.send('POST', '/auth/passkeys/login/options');
    const stepUp = await client.send('POST', '/auth/reauth', { json: key.get(options.json) });
    expect(stepUp.status).toBe(204);
    expect((await client.send('DELETE', `/auth/passkeys/${passkey.id}`)).status).toBe(204);
    expect((await client.send('GET', '/auth/passkeys')).json).toEqual({ passkeys: [] });
    expect((await client.send('GET', '/auth/session')).json.user.mfa).toEqual([]);
    // The removed passkey signs nobody in any more.
    expectError((await passkeySignIn(h, key)).reply, 'invalid_credentials');
  });

  it('another user’s passkey is 404 to delete and no proof for their step-up', async () => {
    const h = await harness(mode);
    const ada = await withPasskey(h);
    const bob = await signedUp(h);
    expectError(await bob.client.send('DELETE', `/auth/passkeys/${ada.passkey.id}`), 'not_found');
    const options = await bob.client.send('POST', '/auth/passkeys/login/options');
    const stepUp = await bob.client.send('POST', '/auth/reauth', {
      json: ada.key.get(options.json),
    });
    expectError(stepUp, 'invalid_credentials');
    expect((await ada.client.send('GET', '/auth/passkeys')).json.passkeys).toHaveLength(1);
  });

  it('answers 400, 401 and 403 like every route', async () => {
    const h = await harness(mode);
    const stranger = new Client(h);
    expectError(await stranger.send('GET', '/auth/passkeys'), 'unauthenticated');
    expectError(await stranger.send('POST', '/auth/passkeys/register/options'), 'unauthenticated');
    expectError(
      await stranger.send('POST', '/auth/passkeys/login', { json: { id: 'x' } }),
      'invalid_request',
    );
    expectError(
      await stranger.send('POST', '/auth/passkeys/login/options', {
        headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      }),
      'csrf_failed',
    );
    const { key } = await withPasskey(h);
    const options = await stranger.send('POST', '/auth/passkeys/login/options');
    const crossSite = await stranger.send('POST', '/auth/passkeys/login', {
      json: key.get(options.json),
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expectError(crossSite, 'csrf_failed');
  });
});
