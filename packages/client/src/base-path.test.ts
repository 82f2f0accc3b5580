/**
 * The `basePath` option: every auth route is requested under it (and under `baseUrl`, once),
 * in both modes; a value that is not a plain path is refused when the client is created.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, type AuthClientOptions, type PublicUser } from './index.js';

const alice: PublicUser = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  createdAt: '2025-01-01T00:00:00.000Z',
  emailVerified: false,
  mfa: [],
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', Date: new Date().toUTCString() },
  });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Answers any auth route by its last segment, wherever it is mounted; records every URL. */
function server() {
  const urls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    await Promise.resolve();
    const url = input instanceof Request ? input.url : String(input);
    urls.push(`${init.method ?? 'GET'} ${url}`);
    const iat = Math.floor(Date.now() / 1000);
    const accessToken = `${b64({ alg: 'EdDSA' })}.${b64({ sid: 's1', iat, exp: iat + 600 })}.c2ln`;
    const signedIn = {
      user: alice,
      accessToken,
      accessTokenExpiresAt: new Date((iat + 600) * 1000).toISOString(),
    };
    if (/\/(login|register|refresh)$/.test(url)) return json(200, signedIn);
    if (url.endsWith('/session')) {
      return json(200, {
        user: alice,
        session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
        csrfToken: 'c1',
      });
    }
    if (url.endsWith('/sessions') && init.method === 'GET') return json(200, { sessions: [] });
    return new Response(null, { status: 204 });
  };
  return { fetch: fetch satisfies typeof globalThis.fetch, urls };
}

/** Every call of the client that reaches an auth route. */
async function everyRoute(options: AuthClientOptions) {
  const api = server();
  const client = createAuthClient({ ...options, fetch: api.fetch, channelName: false });
  try {
    await client.start();
    await client.login({ email: 'a@example.com', password: 'pw' });
    await client.register({ email: 'a@example.com', password: 'pw' });
    await client.session();
    await client.sessions();
    await client.revokeSession('other');
    await client.revokeOtherSessions();
    await client.changePassword({ currentPassword: 'pw', newPassword: 'pw2' });
    await client.logout();
  } finally {
    client.close();
  }
  return [...new Set(api.urls)].sort();
}

beforeEach(() => {
  vi.stubGlobal('BroadcastChannel', undefined);
  vi.stubGlobal('navigator', {});
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe.each(['session', 'token'] as const)('%s mode', (mode) => {
  const routes = (prefix: string) =>
    [
      'DELETE /sessions',
      'DELETE /sessions/other',
      'GET /session',
      'GET /sessions',
      'POST /login',
      'POST /logout',
      'POST /password',
      'POST /register',
      ...(mode === 'token' ? ['POST /refresh'] : []),
    ]
      .map((route) => route.replace(' /', ` ${prefix}/`))
      .sort();

  it('sends every auth route under /auth by default', async () => {
    expect(await everyRoute({ mode })).toEqual(routes('/auth'));
  });

  it('sends every auth route under basePath, and nothing under /auth', async () => {
    expect(await everyRoute({ mode, basePath: '/api/v2/auth' })).toEqual(routes('/api/v2/auth'));
  });

  it('puts baseUrl in front once, whether it is a path prefix, an origin or both', async () => {
    for (const [baseUrl, prefix] of [
      ['/app', '/app/id'],
      ['/app/', '/app/id'],
      ['https://app.test', 'https://app.test/id'],
      ['https://app.test/app', 'https://app.test/app/id'],
    ] as const) {
      expect(await everyRoute({ mode, baseUrl, basePath: '/id' })).toEqual(routes(prefix));
    }
  });
});

it.each([
  '',
  '/',
  'auth',
  '/auth/',
  '//auth',
  '//evil.example/auth',
  '/a//b',
  '/auth?x=1',
  '/auth#x',
  '/au th',
  '/\\evil.example',
  '/a/../b',
  'https://app.test/auth',
])('refuses basePath %j when the client is created', (basePath) => {
  expect(() => createAuthClient({ basePath })).toThrow(TypeError);
  expect(() => createAuthClient({ basePath })).toThrow(/basePath/);
});
