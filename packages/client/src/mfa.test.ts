import { describe, expect, it } from 'vitest';
import { createAuthClient, LatchkeyError, type PublicUser } from './index.js';

// The second factor, step-up and account deletion from the client's side, on a fake
// server: the calls sent, the errors thrown, who is signed in afterwards.

const ada: PublicUser = {
  id: 'u1',
  email: 'ada@example.com',
  name: 'Ada',
  createdAt: '2026-01-01T00:00:00.000Z',
  emailVerified: false,
  mfa: ['totp'],
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
const failure = (status: number, code: string) => json(status, { error: { code, message: code } });

interface Sent {
  method: string;
  path: string;
  body: string | null;
}

function fakeServer(routes: Record<string, (sent: Sent) => Response>) {
  const sent: Sent[] = [];
  const fetch = (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const call = {
      method: (init.method ?? 'GET').toUpperCase(),
      path: url.replace(/^https?:\/\/[^/]+/, ''),
      body: typeof init.body === 'string' ? init.body : null,
    };
    sent.push(call);
    const route = routes[`${call.method} ${call.path}`];
    if (route) return Promise.resolve(route(call));
    if (call.path === '/auth/session') {
      return Promise.resolve(
        json(200, {
          user: ada,
          session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
          csrfToken: 'csrf',
        }),
      );
    }
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  return { fetch: fetch satisfies typeof globalThis.fetch, sent };
}

describe('two-step sign-in', () => {
  it('login throws mfa_required (nobody signed in); loginMfa signs in', async () => {
    const server = fakeServer({
      'POST /auth/login': () =>
        json(200, { mfaRequired: true, methods: ['totp', 'recovery_code'] }),
      'POST /auth/login/mfa': () => json(200, { user: ada }),
    });
    const client = createAuthClient({ fetch: server.fetch, channelName: false });
    const error = await client.login({ email: ada.email, password: 'pw' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatchkeyError);
    expect((error as LatchkeyError).code).toBe('mfa_required');
    expect(client.getUser()).toBeUndefined();
    expect(await client.loginMfa({ code: '123456' })).toEqual(ada);
    expect(client.getUser()).toEqual(ada);
    expect(server.sent.at(-1)).toMatchObject({
      method: 'POST',
      path: '/auth/login/mfa',
      body: JSON.stringify({ code: '123456' }),
    });
  });

  it('token mode: the access token comes with the second step', async () => {
    const server = fakeServer({
      'POST /auth/login': () => json(200, { mfaRequired: true, methods: ['totp'] }),
      'POST /auth/login/mfa': () =>
        json(200, {
          user: ada,
          accessToken: 'h.eyJpYXQiOjEsImV4cCI6NjAxfQ.s',
          accessTokenExpiresAt: '2026-01-01T00:10:00.000Z',
        }),
      'GET /api/me': () => json(200, {}),
    });
    const client = createAuthClient({ mode: 'token', fetch: server.fetch, channelName: false });
    await expect(client.login({ email: ada.email, password: 'pw' })).rejects.toMatchObject({
      code: 'mfa_required',
    });
    await client.loginMfa({ recoveryCode: 'abcd-efgh' });
    await client.fetch('/api/me');
    expect(server.sent.at(-1)?.path).toBe('/api/me');
    client.close();
  });
});

describe('step-up', () => {
  const stale = () => {
    let proven = false;
    const server = fakeServer({
      'DELETE /auth/sessions': () =>
        proven ? new Response(null, { status: 204 }) : failure(401, 'reauth_required'),
      'POST /auth/reauth': () => {
        proven = true;
        return new Response(null, { status: 204 });
      },
    });
    return server;
  };

  it('reauth_required asks the app, and a true answer sends the request once more', async () => {
    const server = stale();
    let asked = 0;
    const client = createAuthClient({
      fetch: server.fetch,
      channelName: false,
      onReauthRequired: async () => {
        asked += 1;
        await client.reauth({ password: 'pw' });
        return true;
      },
    });
    await client.revokeOtherSessions();
    expect(asked).toBe(1);
    expect(server.sent.filter((s) => s.path === '/auth/sessions')).toHaveLength(2);
    expect(server.sent.find((s) => s.path === '/auth/reauth')?.body).toBe(
      JSON.stringify({ password: 'pw' }),
    );
  });

  it('a false answer (or none) throws reauth_required, and it is asked once only', async () => {
    const declined = stale();
    let asked = 0;
    const client = createAuthClient({
      fetch: declined.fetch,
      channelName: false,
      onReauthRequired: () => {
        asked += 1;
        return Promise.resolve(false);
      },
    });
    await expect(client.revokeOtherSessions()).rejects.toMatchObject({ code: 'reauth_required' });
    expect(asked).toBe(1);
    const never = fakeServer({ 'DELETE /auth/sessions': () => failure(401, 'reauth_required') });
    const stubborn = createAuthClient({
      fetch: never.fetch,
      channelName: false,
      onReauthRequired: () => Promise.resolve(true),
    });
    await expect(stubborn.revokeOtherSessions()).rejects.toMatchObject({
      code: 'reauth_required',
    });
    expect(never.sent.filter((s) => s.path === '/auth/sessions')).toHaveLength(2);
    // Still signed in: reauth_required does not end the session.
    expect(await stubborn.session()).not.toBeNull();
  });

  it('token mode: a wrong password on reauth is sent once (no refresh-and-retry)', async () => {
    let refreshes = 0;
    const server = fakeServer({
      'POST /auth/login': () =>
        json(200, {
          user: ada,
          accessToken: 'h.eyJpYXQiOjEsImV4cCI6NjAxfQ.s',
          accessTokenExpiresAt: '2026-01-01T00:10:00.000Z',
        }),
      'POST /auth/reauth': () => failure(401, 'invalid_credentials'),
      'POST /auth/refresh': () => {
        refreshes += 1;
        return failure(401, 'unauthenticated');
      },
    });
    const client = createAuthClient({ mode: 'token', fetch: server.fetch, channelName: false });
    await client.login({ email: ada.email, password: 'pw' });
    await expect(client.reauth({ password: 'wrong' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(server.sent.filter((s) => s.path === '/auth/reauth')).toHaveLength(1);
    expect(refreshes).toBe(0);
    expect(client.getUser()).toEqual(ada);
    client.close();
  });
});

describe('TOTP and account deletion', () => {
  it('enrol, confirm, disable, delete: the routes and answers', async () => {
    const server = fakeServer({
      'POST /auth/mfa/totp': () => json(200, { secret: 'ABC', otpauthUrl: 'otpauth://totp/x' }),
      'POST /auth/mfa/totp/confirm': () => json(200, { recoveryCodes: ['a', 'b'] }),
    });
    const client = createAuthClient({ fetch: server.fetch, channelName: false });
    await client.start();
    expect(await client.enrolTotp()).toEqual({ secret: 'ABC', otpauthUrl: 'otpauth://totp/x' });
    expect(await client.confirmTotp('123456')).toEqual(['a', 'b']);
    await client.disableTotp();
    expect(client.getUser()).toEqual(ada);
    await client.deleteAccount();
    expect(client.getUser()).toBeNull();
    expect(server.sent.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /auth/session',
      'POST /auth/mfa/totp',
      'POST /auth/mfa/totp/confirm',
      'DELETE /auth/mfa/totp',
      'DELETE /auth/account',
    ]);
  });
});

describe('the user', () => {
  it('listeners hear when the same user’s details change (a factor added), not on every read', async () => {
    let mfa: string[] = [];
    const server = fakeServer({
      'GET /auth/session': () =>
        json(200, {
          user: { ...ada, mfa },
          session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
          csrfToken: 'csrf',
        }),
    });
    const client = createAuthClient({ fetch: server.fetch, channelName: false });
    await client.start();
    const heard: (string[] | undefined)[] = [];
    client.onChange((user) => heard.push(user?.mfa));
    await client.session();
    expect(heard).toEqual([]);
    mfa = ['totp'];
    await client.session();
    expect(heard).toEqual([['totp']]);
    expect(client.getUser()?.mfa).toEqual(['totp']);
  });
});
