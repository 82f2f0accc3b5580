/**
 * Credentials go to the server's own origin and nowhere else, whatever URL the app (or data
 * an attacker put in the app's hands) passes to `auth.fetch`. The fake fetch below is the
 * browser: it resolves what it is given against the page the way fetch does, so a URL the
 * client mistakes for a path lands where a real browser would send it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, CSRF_HEADER, type AuthClient, type PublicUser } from './index.js';

const APP = 'https://app.test';
const PAGE = `${APP}/notes/`;

const alice: PublicUser = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  createdAt: '2025-01-01T00:00:00.000Z',
  emailVerified: false,
  mfa: [],
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

interface Sent {
  /** What the client handed to fetch. */
  given: string;
  /** Where the browser sends it. */
  url: string;
  origin: string;
  method: string;
  authorization: string | null;
  csrf: string | null;
}

/** The browser's fetch and the Latchkey server at `APP`; every other origin is the attacker. */
function browser() {
  const sent: Sent[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request = input instanceof Request ? input : undefined;
    const given = request ? request.url : input instanceof URL ? input.href : (input as string);
    const base: string | undefined = globalThis.document?.baseURI ?? globalThis.location?.href;
    const url = new URL(given, base);
    const headers = new Headers(init.headers ?? request?.headers);
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    sent.push({
      given,
      url: url.href,
      origin: url.origin,
      method,
      authorization: headers.get('Authorization'),
      csrf: headers.get(CSRF_HEADER),
    });
    await Promise.resolve();
    if (url.origin !== APP) return new Response('stolen', { status: 200 });
    if (method === 'GET' && url.pathname.endsWith('/auth/session')) {
      return json(200, {
        user: alice,
        session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
        csrfToken: 'csrf-1',
      });
    }
    if (method === 'POST' && url.pathname.endsWith('/auth/refresh')) {
      return json(200, {
        user: alice,
        accessToken: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln',
        accessTokenExpiresAt: new Date(Date.now() + 600_000).toISOString(),
      });
    }
    return new Response(null, { status: 204 });
  };
  return {
    fetch: fetch satisfies typeof globalThis.fetch,
    sent,
    /** Requests that carried a credential to an origin that is not the server's. */
    leaks: () =>
      sent.filter((s) => s.origin !== APP && (s.authorization !== null || s.csrf !== null)),
  };
}

/**
 * URLs that are not on the page's origin, though some look like paths. The URL parser turns
 * `\` into `/` (for http and https), drops tabs and newlines anywhere and leading spaces.
 */
const ATTACKS: [string, () => RequestInfo | URL][] = [
  ['/\\evil.example/x', () => '/\\evil.example/x'],
  ['/<tab>/evil.example/x', () => '/\t/evil.example/x'],
  ['/<newline>/evil.example/x', () => '/\n/evil.example/x'],
  ['//evil.example/x', () => '//evil.example/x'],
  ['\\/evil.example/x', () => '\\/evil.example/x'],
  ['\\\\evil.example', () => '\\\\evil.example'],
  ['<space>//evil.example/x', () => ' //evil.example/x'],
  ['https://evil.example/x', () => 'https://evil.example/x'],
  ['https://app.test.evil.example/x', () => 'https://app.test.evil.example/x'],
  ['https://app.test@evil.example/x', () => 'https://app.test@evil.example/x'],
  ['http://app.test/x (another scheme)', () => 'http://app.test/x'],
  ['https://app.test:8443/x (another port)', () => 'https://app.test:8443/x'],
  ['a URL object to evil.example', () => new URL('https://evil.example/x')],
  ['a Request to evil.example', () => new Request('https://evil.example/x', { method: 'POST' })],
];

/** Same-origin URLs, each with where it must arrive. */
const OWN: [string, () => RequestInfo | URL, string][] = [
  ['/api/notes', () => '/api/notes', `${APP}/api/notes`],
  ['api/notes (relative to the page)', () => 'api/notes', `${APP}/notes/api/notes`],
  ['https://app.test/api/notes', () => `${APP}/api/notes`, `${APP}/api/notes`],
  ['https://APP.test:443/api/notes', () => 'https://APP.test:443/api/notes', `${APP}/api/notes`],
  ['a URL object', () => new URL(`${APP}/api/notes`), `${APP}/api/notes`],
  [
    'a Request',
    () => new Request(`${APP}/api/notes`, { method: 'POST', body: '{}' }),
    `${APP}/api/notes`,
  ],
];

const clients: AuthClient[] = [];
const client = (fetch: typeof globalThis.fetch, mode: 'session' | 'token', baseUrl?: string) => {
  const made = createAuthClient({
    mode,
    fetch,
    channelName: false,
    ...(baseUrl === undefined ? {} : { baseUrl }),
  });
  clients.push(made);
  return made;
};

beforeEach(() => {
  vi.stubGlobal('location', new URL(PAGE));
  vi.stubGlobal('navigator', {});
});
afterEach(() => {
  for (const made of clients.splice(0)) made.close();
  vi.unstubAllGlobals();
});

describe.each(['session', 'token'] as const)('%s mode: credentials to other origins', (mode) => {
  /** A signed-in client (token mode holds an access token) and the browser it runs in. */
  const signedIn = async (baseUrl?: string) => {
    const page = browser();
    const auth = client(page.fetch, mode, baseUrl);
    await auth.start();
    return { page, auth };
  };

  it.each(ATTACKS)('%s gets no credential', async (_name, input) => {
    const { page, auth } = await signedIn();
    await auth.fetch(input(), { method: 'POST', body: '{}' });
    await auth.fetch(input());
    const away = page.sent.filter((s) => s.origin !== APP);
    expect(away.length).toBeGreaterThan(0);
    expect(page.leaks()).toEqual([]);
  });

  it.each(ATTACKS)('%s gets no credential with baseUrl set', async (_name, input) => {
    const { page, auth } = await signedIn(APP);
    await auth.fetch(input(), { method: 'POST', body: '{}' });
    await auth.fetch(input());
    expect(page.leaks()).toEqual([]);
  });

  it.each(OWN)('%s gets the credential', async (_name, input, arrives) => {
    const { page, auth } = await signedIn();
    await auth.fetch(input(), { method: 'POST', body: '{}' });
    const last = page.sent.at(-1);
    expect(last?.url).toBe(arrives);
    if (mode === 'session') expect(last?.csrf).toBe('csrf-1');
    else expect(last?.authorization).toBe('Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln');
  });

  it('what is checked is what is fetched: a string is sent resolved, as an absolute URL', async () => {
    const { page, auth } = await signedIn();
    await auth.fetch('/\\evil.example/x', { method: 'POST' });
    await auth.fetch('/api/notes', { method: 'POST' });
    expect(page.sent.slice(-2).map((s) => [s.given, Boolean(s.authorization ?? s.csrf)])).toEqual([
      ['https://evil.example/x', false],
      [`${APP}/api/notes`, true],
    ]);
  });

  it('a <base> element that points elsewhere does not take the credential with it', async () => {
    const { page, auth } = await signedIn();
    vi.stubGlobal('document', { baseURI: 'https://evil.example/', visibilityState: 'visible' });
    await auth.fetch('/api/notes', { method: 'POST' });
    await auth.fetch('api/notes', { method: 'POST' });
    const last = page.sent.slice(-2);
    expect(last.map((s) => s.origin)).toEqual(['https://evil.example', 'https://evil.example']);
    expect(page.leaks()).toEqual([]);
  });

  it('baseUrl as a path prefix, with or without a trailing slash', async () => {
    for (const baseUrl of ['/app', '/app/', '/']) {
      const { page, auth } = await signedIn(baseUrl);
      await auth.fetch('/api/notes', { method: 'POST' });
      await auth.fetch('/\\evil.example/x', { method: 'POST' });
      const prefix = baseUrl === '/' ? '' : '/app';
      const note = page.sent.find((s) => s.url === `${APP}${prefix}/api/notes`);
      expect(note?.authorization ?? note?.csrf).toBeTruthy();
      // Never `//auth/…` or `//api/…`: a protocol-relative URL to a host named `auth` or `api`.
      expect(page.sent.filter((s) => s.url.startsWith(APP)).length).toBeGreaterThanOrEqual(2);
      expect(page.sent.map((s) => s.origin)).not.toContain('https://auth');
      expect(page.leaks()).toEqual([]);
    }
  });
});

describe('without a page (Node, server rendering)', () => {
  beforeEach(() => {
    vi.stubGlobal('location', undefined);
  });

  it('a root-relative path gets the credential; anything that leaves the origin does not', async () => {
    const sent: { given: string; csrf: string | null }[] = [];
    const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const given = input instanceof Request ? input.url : String(input);
      sent.push({ given, csrf: new Headers(init.headers).get(CSRF_HEADER) });
      await Promise.resolve();
      return given.endsWith('/auth/session')
        ? json(200, {
            user: alice,
            session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
            csrfToken: 'csrf-1',
          })
        : new Response(null, { status: 204 });
    };
    const auth = client(fetch, 'session');
    for (const [, input] of ATTACKS) await auth.fetch(input(), { method: 'POST' });
    await auth.fetch('/api/notes', { method: 'POST' });
    expect(sent.filter((s) => s.csrf !== null).map((s) => s.given)).toEqual(['/api/notes']);
    expect(sent).toContainEqual({ given: 'https://evil.example/x', csrf: null });
  });
});
