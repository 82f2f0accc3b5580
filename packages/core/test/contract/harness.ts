/**
 * In-process harness for the API.md (v2) contract suite: a Latchkey on the memory
 * store with an injected clock, a tiny app route that authenticates through
 * `latchkey.authenticate`, and a browser-like client whose every answer is checked
 * against the invariants API.md states for *all* responses (security headers,
 * `no-store` under /auth, the one JSON error shape, `__Host-Http-` cookie rules).
 * Only public entry points are imported.
 */
import { expect } from 'vitest';
import {
  assessPassword,
  createLatchkey,
  CSRF_HEADER,
  generateSigningJwk,
  REFRESH_COOKIE,
  SESSION_COOKIE,
  type ConnectionInfo,
  type Latchkey,
  type LatchkeyOptions,
  type LatchkeyStore,
  type Mode,
} from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';

export const ORIGIN = 'https://app.example.test';
export const PASSWORD = 'correct horse battery staple';
export const NEW_PASSWORD = 'violet lantern orbiting quietly';
export const MODES = ['session', 'token'] as const satisfies readonly Mode[];
/** Non-default timeouts, so a Max-Age or expiry that matches proves it follows the config. */
export const IDLE_MS = 30 * 60_000;
export const ABSOLUTE_MS = 8 * 3_600_000;
export const ONE_YEAR_S = 31_536_000;

/** Status of every error code in API.md's table (the two not built yet included). */
export const STATUS: Record<string, number> = {
  invalid_request: 400,
  invalid_token: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  session_expired: 401,
  token_reused: 401,
  reauth_required: 401,
  csrf_failed: 403,
  not_found: 404,
  email_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  weak_password: 422,
  rate_limited: 429,
  store_unavailable: 503,
  overloaded: 503,
};

/** One Ed25519 signing key per test file: generating one per test would be wasted time. */
const key = generateSigningJwk('EdDSA');
export const signingKey = () => key;

// Build the password-strength dictionaries while the file loads (about a second, far
// more on a busy machine), so the first test of each file does not run into its timeout.
await assessPassword('warm up the strength estimator');

export interface Harness {
  mode: Mode;
  latchkey: Latchkey;
  /** The clock Latchkey reads (`now` option); starts at a whole second. */
  clock: { now: () => number; advance: (ms: number) => void };
  /** `/api/me` (the app's own route, through `authenticate`); everything else to `handle`. */
  app: (request: Request, connection?: ConnectionInfo) => Promise<Response>;
}

export async function harness(
  mode: Mode,
  options: Partial<LatchkeyOptions> = {},
): Promise<Harness> {
  let now = Math.floor(Date.now() / 1000) * 1000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const latchkey = createLatchkey({
    store: createMemoryStore(),
    secrets: ['contract-suite-secret-0123456789abcdef'],
    publicUrl: ORIGIN,
    mode,
    ...(mode === 'token' ? { token: { keys: [await signingKey()] } } : {}),
    session: { idleTimeout: '30m', absoluteTimeout: '8h' },
    logger: () => undefined,
    now: clock.now,
    ...options,
  });
  const app = async (request: Request, connection?: ConnectionInfo) => {
    if (new URL(request.url).pathname !== '/api/me') return latchkey.handle(request, connection);
    const auth = await latchkey.authenticate(request, connection);
    if (!auth.ok) return latchkey.errorResponse(auth.error);
    const body = { userId: auth.userId, sessionId: auth.sessionId, method: request.method };
    return latchkey.json(body, { setCookies: auth.setCookies });
  };
  return { mode, latchkey, clock, app };
}

export const credentialCookie = (mode: Mode) =>
  mode === 'token' ? REFRESH_COOKIE : SESSION_COOKIE;

/** A store whose backend can be made to go away: every call then rejects, as a driver would. */
export function breakableStore(): { store: LatchkeyStore; breakIt: () => void } {
  const inner = createMemoryStore();
  let broken = false;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, name, receiver) {
        const value: unknown = Reflect.get(obj, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown =>
          broken
            ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'))
            : (value as (...a: unknown[]) => unknown).apply(obj, args);
      },
    });
  const store: LatchkeyStore = {
    name: 'breakable',
    users: wrap(inner.users),
    sessions: wrap(inner.sessions),
    records: wrap(inner.records),
    rateLimits: { createLimiter: (options) => wrap(inner.rateLimits.createLimiter(options)) },
    ping: () => (broken ? Promise.reject(new Error('ECONNREFUSED')) : inner.ping()),
    close: () => inner.close(),
  };
  return { store, breakIt: () => void (broken = true) };
}

export interface ParsedCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags map to ''. */
  attributes: Record<string, string>;
}

export function parseSetCookie(line: string): ParsedCookie {
  const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at === -1) attributes[part.toLowerCase()] = '';
    else attributes[part.slice(0, at).toLowerCase()] = part.slice(at + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

export interface Reply {
  status: number;
  headers: Headers;
  cookies: ParsedCookie[];
  text: string;
  json: any;
  cookie(name: string): ParsedCookie | undefined;
}

/** What API.md requires of every answer; checked on each reply the client gets. */
export function expectSecurityHeaders(headers: Headers): void {
  const csp = (headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim());
  expect(csp).toEqual(
    expect.arrayContaining([
      "default-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'none'",
    ]),
  );
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('same-origin');
  const hsts = headers.get('strict-transport-security') ?? '';
  expect(Number(/max-age=(\d+)/.exec(hsts)?.[1])).toBeGreaterThanOrEqual(ONE_YEAR_S);
  expect(hsts).toMatch(/;\s*includeSubDomains/);
  expect(headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(headers.get('x-xss-protection')).toBe('0');
}

async function checked(path: string, response: Response): Promise<Reply> {
  const text = await response.text();
  expectSecurityHeaders(response.headers);
  if (path.startsWith('/auth')) expect(response.headers.get('cache-control')).toBe('no-store');
  const json: unknown = text === '' ? null : JSON.parse(text);
  if (response.status === 204) expect(text).toBe('');
  if (response.status >= 400) {
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(json).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    const { code } = (json as { error: { code: string } }).error;
    expect(STATUS[code], `status of ${code}`).toBe(response.status);
    expect(text).not.toMatch(/\bat .+:\d+|ECONNREFUSED|hunter2|SELECT |Error:/);
  }
  const cookies = response.headers.getSetCookie().map(parseSetCookie);
  for (const c of cookies) {
    // Every cookie Latchkey sets is a credential cookie: __Host-Http-, host-only, Path=/.
    expect(c.name).toMatch(/^__Host-Http-/);
    expect(c.attributes).toMatchObject({ path: '/', httponly: '', secure: '', samesite: 'Strict' });
    expect(c.attributes).not.toHaveProperty('domain');
  }
  const cookie = (name: string) => cookies.find((c) => c.name === name);
  return { status: response.status, headers: response.headers, cookies, text, json, cookie };
}

export interface SendOptions {
  json?: unknown;
  /** A raw body; give its Content-Type in `headers`. */
  body?: BodyInit;
  /** Extra or replacing headers; null removes a default one. */
  headers?: Record<string, string | null>;
}

let emails = 0;
export const uniqueEmail = (tag = 'user') => `${tag}.${++emails}.${Date.now()}@example.test`;

/**
 * A browser as API.md sees it: a cookie jar, `Origin` and `Sec-Fetch-Site: same-origin`
 * on every request, the anti-forgery token (session mode) on unsafe ones, and the
 * access token (token mode) kept in memory and sent as a bearer.
 */
export class Client {
  readonly jar = new Map<string, string>();
  csrfToken: string | null = null;
  accessToken: string | null = null;

  constructor(
    readonly h: Harness,
    readonly ip = '192.0.2.10',
    readonly userAgent = 'contract-suite',
  ) {}

  async send(method: string, path: string, options: SendOptions = {}): Promise<Reply> {
    const headers: Record<string, string | null> = {
      origin: ORIGIN,
      'sec-fetch-site': 'same-origin',
      'user-agent': this.userAgent,
      cookie: [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ') || null,
      authorization: this.accessToken ? `Bearer ${this.accessToken}` : null,
      [CSRF_HEADER.toLowerCase()]: method === 'GET' ? null : this.csrfToken,
      'content-type': options.json === undefined ? null : 'application/json',
    };
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    const init: RequestInit = { method, headers: new Headers() };
    for (const [name, value] of Object.entries(headers)) {
      if (value !== null) (init.headers as Headers).set(name, value);
    }
    if (options.json !== undefined) init.body = JSON.stringify(options.json);
    else if (options.body !== undefined) init.body = options.body;
    const response = await this.h.app(new Request(ORIGIN + path, init), {
      remoteAddress: this.ip,
    });
    const reply = await checked(path, response);
    for (const c of reply.cookies) {
      if (c.attributes['max-age'] === '0') this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    if (typeof reply.json?.accessToken === 'string') this.accessToken = reply.json.accessToken;
    return reply;
  }

  /** Session mode: fetches the session-bound anti-forgery token (token mode: the session view). */
  async session(): Promise<Reply> {
    const reply = await this.send('GET', '/auth/session');
    if (reply.status === 200 && this.h.mode === 'session') this.csrfToken = reply.json.csrfToken;
    return reply;
  }
}

/** A fresh client that registered (201) and knows its anti-forgery token. */
export async function signedUp(h: Harness, options: { email?: string; name?: string } = {}) {
  const client = new Client(h);
  const email = options.email ?? uniqueEmail();
  const reply = await client.send('POST', '/auth/register', {
    json: { email, password: PASSWORD, ...(options.name ? { name: options.name } : {}) },
  });
  expect(reply.status).toBe(201);
  const session = await client.session();
  expect(session.status).toBe(200);
  return { client, email, reply, user: reply.json.user, sessionId: session.json.session.id };
}

/** A fresh client (another device) that signed in to an existing account. */
export async function signedIn(h: Harness, email: string, ip = '198.51.100.7', ua = 'device-2') {
  const client = new Client(h, ip, ua);
  const reply = await client.send('POST', '/auth/login', { json: { email, password: PASSWORD } });
  expect(reply.status).toBe(200);
  const session = await client.session();
  return { client, reply, sessionId: session.json.session.id as string };
}

/** Asserts an error answer: its status from API.md's table and its code. */
export function expectError(reply: Reply, code: string): void {
  expect({ status: reply.status, code: reply.json?.error?.code }).toEqual({
    status: STATUS[code],
    code,
  });
}

/** A JWT's header or claims, decoded without verification. */
export const decodeJwt = (token: string, part: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString());
