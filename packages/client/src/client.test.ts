import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, CSRF_HEADER, LatchkeyError, type PublicUser } from './index.js';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
  credentials: RequestCredentials | undefined;
}

type Handler = (call: Call) => Response | Promise<Response>;

const alice: PublicUser = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  createdAt: '2025-01-01T00:00:00.000Z',
  emailVerified: false,
  mfa: [],
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

const error = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `server says ${code}` } }, headers);

const sessionBody = (csrfToken: string, id = 's1') => ({
  user: alice,
  session: { id, createdAt: '', expiresAt: '', idleExpiresAt: '' },
  csrfToken,
});

/**
 * A fake server: `GET /auth/session` hands out tokens `t1`, `t2`, … (a new one per
 * call, so a test can tell a refetch from a cached token); other routes go to `routes`.
 */
function fakeServer(routes: Record<string, Handler> = {}) {
  const calls: Call[] = [];
  let issued = 0;
  let signedIn = true;
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request = input instanceof Request ? input : undefined;
    const call: Call = {
      url: input instanceof Request ? input.url : input instanceof URL ? input.href : input,
      method: (init.method ?? request?.method ?? 'GET').toUpperCase(),
      headers: new Headers(init.headers),
      body:
        typeof init.body === 'string' ? init.body : request ? await request.clone().text() : null,
      credentials: init.credentials,
    };
    calls.push(call);
    const path = call.url.replace(/^https?:\/\/[^/]+/, '');
    const route = routes[`${call.method} ${path}`];
    if (route) return route(call);
    if (call.method === 'GET' && path === '/auth/session') {
      if (!signedIn) return error(401, 'unauthenticated');
      issued += 1;
      return json(200, sessionBody(`t${issued}`));
    }
    return new Response(null, { status: 204 });
  };
  return {
    fetch: fetch satisfies typeof globalThis.fetch,
    calls,
    sessionFetches: () => calls.filter((c) => c.url.endsWith('/auth/session')).length,
    app: () => calls.filter((c) => c.url.includes('/api/')),
    signOut: () => {
      signedIn = false;
    },
  };
}

// Node has a real BroadcastChannel: keep these single-tab tests from talking to each other
// (the cross-tab behaviour is tested with a fake channel in token.test.ts).
beforeEach(() => {
  vi.stubGlobal('BroadcastChannel', undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('fetch() and the CSRF header', () => {
  it('attaches X-CSRF-Token on POST, PUT, PATCH and DELETE but never on GET or HEAD', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    for (const method of ['GET', 'HEAD', 'POST', 'put', 'PATCH', 'DELETE']) {
      await client.fetch('/api/notes', { method });
    }
    const sent = server.app().map((c) => [c.method, c.headers.get(CSRF_HEADER)]);
    expect(sent).toEqual([
      ['GET', null],
      ['HEAD', null],
      ['POST', 't1'],
      ['PUT', 't1'],
      ['PATCH', 't1'],
      ['DELETE', 't1'],
    ]);
  });

  it('reads the method of a Request object and keeps its headers', async () => {
    const server = fakeServer();
    // No page here (Node): the server's origin comes from baseUrl.
    const client = createAuthClient({ fetch: server.fetch, baseUrl: 'http://app.test' });
    await client.fetch(
      new Request('http://app.test/api/notes', {
        method: 'POST',
        headers: { 'X-Custom': 'kept' },
        body: '{}',
      }),
    );
    const [post] = server.app();
    expect(post?.headers.get(CSRF_HEADER)).toBe('t1');
    expect(post?.headers.get('X-Custom')).toBe('kept');
  });

  it('does not fetch the token for safe requests, then fetches it once and caches it', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await client.fetch('/api/notes');
    expect(server.sessionFetches()).toBe(0);
    await client.fetch('/api/notes', { method: 'POST', body: '{}' });
    await client.fetch('/api/notes/1', { method: 'DELETE' });
    expect(server.sessionFetches()).toBe(1);
    expect(server.app().map((c) => c.headers.get(CSRF_HEADER))).toEqual([null, 't1', 't1']);
  });

  it('shares one token fetch between concurrent unsafe requests', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await Promise.all([
      client.fetch('/api/a', { method: 'POST' }),
      client.fetch('/api/b', { method: 'POST' }),
    ]);
    expect(server.sessionFetches()).toBe(1);
  });

  it('reuses the token from an explicit session() call', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await client.session();
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.sessionFetches()).toBe(1);
    expect(server.app()[0]?.headers.get(CSRF_HEADER)).toBe('t1');
  });

  it('on 403 csrf_failed refetches the token and retries exactly once, with the same body', async () => {
    let posts = 0;
    const server = fakeServer({
      'POST /api/notes': (call) => {
        posts += 1;
        return call.headers.get(CSRF_HEADER) === 't2'
          ? json(201, { note: { id: 'n1' } })
          : error(403, 'csrf_failed');
      },
    });
    const client = createAuthClient({ fetch: server.fetch });
    const response = await client.fetch('/api/notes', {
      method: 'POST',
      body: '{"text":"hi"}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(201);
    expect(posts).toBe(2);
    expect(server.sessionFetches()).toBe(2);
    const retry = server.app()[1];
    expect(retry?.body).toBe('{"text":"hi"}');
    expect(retry?.headers.get('Content-Type')).toBe('application/json');
  });

  it('gives up after one retry and hands back the 403', async () => {
    const server = fakeServer({ 'POST /api/notes': () => error(403, 'csrf_failed') });
    const client = createAuthClient({ fetch: server.fetch });
    const response = await client.fetch('/api/notes', { method: 'POST' });
    expect(response.status).toBe(403);
    expect(server.app()).toHaveLength(2);
    // The caller can still read the error body.
    expect((await LatchkeyError.fromResponse(response)).code).toBe('csrf_failed');
  });

  it('does not retry a 403 with another code, nor a GET', async () => {
    const server = fakeServer({
      'POST /api/notes': () => error(403, 'forbidden_other'),
      'GET /api/notes': () => error(403, 'csrf_failed'),
    });
    const client = createAuthClient({ fetch: server.fetch });
    await client.fetch('/api/notes', { method: 'POST' });
    await client.fetch('/api/notes');
    expect(server.app()).toHaveLength(2);
  });

  it('sends credentials same-origin and prefixes baseUrl on root-relative paths', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch, baseUrl: 'https://app.test' });
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.calls.map((c) => [c.url, c.credentials])).toEqual([
      ['https://app.test/auth/session', 'same-origin'],
      ['https://app.test/api/notes', 'same-origin'],
    ]);
  });
});

describe('auth calls', () => {
  it('login posts JSON without a CSRF token and without asking for the session first', async () => {
    const server = fakeServer({ 'POST /auth/login': () => json(200, { user: alice }) });
    const client = createAuthClient({ fetch: server.fetch });
    await expect(client.login({ email: 'a@example.com', password: 'pw' })).resolves.toEqual(alice);
    expect(server.calls).toHaveLength(1);
    const [login] = server.calls;
    expect(login?.headers.get('Content-Type')).toBe('application/json');
    expect(login?.headers.get(CSRF_HEADER)).toBeNull();
    expect(login?.credentials).toBe('same-origin');
    expect(JSON.parse(login?.body ?? '')).toEqual({ email: 'a@example.com', password: 'pw' });
  });

  it('register sends the optional name only when given', async () => {
    const server = fakeServer({ 'POST /auth/register': () => json(201, { user: alice }) });
    const client = createAuthClient({ fetch: server.fetch });
    await client.register({ email: 'a@example.com', password: 'pw' });
    await client.register({ email: 'a@example.com', password: 'pw', name: 'A' });
    expect(server.calls.map((c) => JSON.parse(c.body ?? '') as unknown)).toEqual([
      { email: 'a@example.com', password: 'pw' },
      { email: 'a@example.com', password: 'pw', name: 'A' },
    ]);
  });

  it('session-protected auth calls carry the CSRF token', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await client.revokeOtherSessions();
    await client.changePassword({ currentPassword: 'a', newPassword: 'b' });
    await client.logout();
    const unsafe = server.calls.filter((c) => c.method !== 'GET');
    expect(unsafe.map((c) => [c.method, c.url, c.headers.get(CSRF_HEADER)])).toEqual([
      ['DELETE', '/auth/sessions', 't1'],
      // A password change re-issues the session, so its token is fetched again.
      ['POST', '/auth/password', 't1'],
      ['POST', '/auth/logout', 't2'],
    ]);
  });

  it('logoutWithProvider posts to /auth/oidc/logout with the CSRF token, signs out and answers where to go', async () => {
    const end = 'https://id.example/session/end?id_token_hint=x';
    const server = fakeServer({ 'POST /auth/oidc/logout': () => json(200, { redirectTo: end }) });
    const client = createAuthClient({ fetch: server.fetch });
    await client.session();
    expect(client.getUser()).toEqual(alice);
    await expect(client.logoutWithProvider()).resolves.toBe(end);
    expect(client.getUser()).toBeNull();
    const unsafe = server.calls.filter((c) => c.method !== 'GET');
    expect(unsafe.map((c) => [c.method, c.url, c.headers.get(CSRF_HEADER)])).toEqual([
      ['POST', '/auth/oidc/logout', 't1'],
    ]);
  });

  it('session() answers null on 401 unauthenticated or session_expired, and throws otherwise', async () => {
    for (const code of ['unauthenticated', 'session_expired']) {
      const server = fakeServer({ 'GET /auth/session': () => error(401, code) });
      const client = createAuthClient({ fetch: server.fetch });
      await expect(client.session()).resolves.toBeNull();
    }
    const down = fakeServer({ 'GET /auth/session': () => error(503, 'store_unavailable') });
    const client = createAuthClient({ fetch: down.fetch });
    await expect(client.session()).rejects.toMatchObject({
      code: 'store_unavailable',
      status: 503,
    });
  });

  it('sessions() returns the list and revokeSession() encodes the id', async () => {
    const list = { sessions: [{ id: 's1', current: true }] };
    const server = fakeServer({ 'GET /auth/sessions': () => json(200, list) });
    const client = createAuthClient({ fetch: server.fetch });
    await expect(client.sessions()).resolves.toEqual(list);
    await client.revokeSession('a/b');
    expect(server.calls.at(-1)?.url).toBe('/auth/sessions/a%2Fb');
  });
});

describe('errors', () => {
  it('turns an error body into a LatchkeyError with code, status, message and retryAfter', async () => {
    const server = fakeServer({
      'POST /auth/login': () => error(429, 'rate_limited', { 'Retry-After': '42' }),
    });
    const client = createAuthClient({ fetch: server.fetch });
    const failure = await client
      .login({ email: 'a@example.com', password: 'x' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LatchkeyError);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({
      name: 'LatchkeyError',
      code: 'rate_limited',
      status: 429,
      message: 'server says rate_limited',
      retryAfter: 42,
    });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const response = error(429, 'rate_limited', { 'Retry-After': at });
    const { retryAfter } = await LatchkeyError.fromResponse(response);
    expect(retryAfter).toBeGreaterThanOrEqual(88);
    expect(retryAfter).toBeLessThanOrEqual(90);
  });

  it('leaves retryAfter unset without the header', async () => {
    const failure = await LatchkeyError.fromResponse(error(422, 'weak_password'));
    expect(failure).toMatchObject({ code: 'weak_password', status: 422 });
    expect('retryAfter' in failure).toBe(false);
  });

  it('maps a body that is not JSON to internal_error with the status', async () => {
    const failure = await LatchkeyError.fromResponse(new Response('<html>', { status: 502 }));
    expect(failure).toMatchObject({ code: 'internal_error', status: 502 });
  });

  it('turns a network failure into network_error (status 0), keeping the cause', async () => {
    const cause = new TypeError('Failed to fetch');
    const client = createAuthClient({ fetch: () => Promise.reject(cause) });
    const fromLogin = await client.login({ email: 'a', password: 'b' }).catch((e: unknown) => e);
    expect(fromLogin).toBeInstanceOf(LatchkeyError);
    expect(fromLogin).toMatchObject({ code: 'network_error', status: 0, cause });
    await expect(client.fetch('/api/notes')).rejects.toMatchObject({ code: 'network_error' });
    await expect(client.session()).rejects.toMatchObject({ code: 'network_error' });
  });

  it('lets an abort through unchanged', async () => {
    const abort = new DOMException('aborted', 'AbortError');
    const client = createAuthClient({ fetch: () => Promise.reject(abort) });
    await expect(client.fetch('/api/notes')).rejects.toBe(abort);
  });

  it('does not cache a token fetch that failed', async () => {
    let fail = true;
    const server = fakeServer();
    const client = createAuthClient({
      fetch: (input, init) =>
        fail ? Promise.reject(new TypeError('offline')) : server.fetch(input, init),
    });
    await expect(client.fetch('/api/notes', { method: 'POST' })).rejects.toMatchObject({
      code: 'network_error',
    });
    fail = false;
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.app()[0]?.headers.get(CSRF_HEADER)).toBe('t1');
  });
});

describe('onChange and signing out', () => {
  it('fires on login, register, logout and a session that answers 401', async () => {
    const server = fakeServer({
      'POST /auth/login': () => json(200, { user: alice }),
      'POST /auth/register': () => json(201, { user: { ...alice, id: 'u2' } }),
    });
    const client = createAuthClient({ fetch: server.fetch });
    const seen: (string | null)[] = [];
    client.onChange((user) => seen.push(user?.id ?? null));

    await client.login({ email: 'a', password: 'b' });
    expect(client.getUser()).toEqual(alice);
    await client.logout();
    await client.register({ email: 'a', password: 'b' });
    server.signOut();
    await client.session();
    expect(seen).toEqual(['u1', null, 'u2', null]);
    expect(client.getUser()).toBeNull();
  });

  it('does not fire when session() confirms the same user, and stops after unsubscribe', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    let count = 0;
    const off = client.onChange(() => (count += 1));
    await client.session();
    await client.session();
    expect(count).toBe(1);
    off();
    server.signOut();
    await client.session();
    expect(count).toBe(1);
  });

  it('fetch() answering 401 session_expired signs out and forgets the token', async () => {
    let expired = false;
    const server = fakeServer({
      'GET /api/notes': () => (expired ? error(401, 'session_expired') : json(200, { notes: [] })),
    });
    const client = createAuthClient({ fetch: server.fetch });
    await client.session();
    const seen: (PublicUser | null)[] = [];
    client.onChange((user) => seen.push(user));
    expired = true;
    const response = await client.fetch('/api/notes');
    expect(response.status).toBe(401);
    expect(seen).toEqual([null]);
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.sessionFetches()).toBe(2);
  });

  it('a 401 invalid_credentials from login does not sign the current user out', async () => {
    const server = fakeServer({ 'POST /auth/login': () => error(401, 'invalid_credentials') });
    const client = createAuthClient({ fetch: server.fetch });
    await client.session();
    await expect(client.login({ email: 'a', password: 'b' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(client.getUser()).toEqual(alice);
  });

  it('logout clears the cached token, so the next unsafe request fetches a new one', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await client.fetch('/api/notes', { method: 'POST' });
    await client.logout();
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.app().map((c) => c.headers.get(CSRF_HEADER))).toEqual(['t1', 't2']);
  });

  it('login clears a token cached for the previous session', async () => {
    const server = fakeServer({ 'POST /auth/login': () => json(200, { user: alice }) });
    const client = createAuthClient({ fetch: server.fetch });
    await client.fetch('/api/notes', { method: 'POST' });
    await client.login({ email: 'a', password: 'b' });
    await client.fetch('/api/notes', { method: 'POST' });
    expect(server.app().map((c) => c.headers.get(CSRF_HEADER))).toEqual(['t1', 't2']);
  });

  it('revoking the current session signs out; revoking another does not', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    await client.session();
    await client.revokeSession('other');
    expect(client.getUser()).toEqual(alice);
    await client.revokeSession('s1');
    expect(client.getUser()).toBeNull();
  });

  it('a listener that throws does not break the call', async () => {
    const server = fakeServer();
    const client = createAuthClient({ fetch: server.fetch });
    const original = globalThis.setTimeout;
    const deferred: (() => void)[] = [];
    globalThis.setTimeout = ((fn: () => void) => deferred.push(fn)) as typeof setTimeout;
    try {
      client.onChange(() => {
        throw new Error('listener bug');
      });
      await expect(client.session()).resolves.not.toBeNull();
    } finally {
      globalThis.setTimeout = original;
    }
    expect(() => deferred[0]?.()).toThrow('listener bug');
  });
});
