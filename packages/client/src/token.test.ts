/**
 * Token mode and the tabs: the client against a fake server whose clock is the (faked)
 * Date.now, with a shared cookie jar, a fake BroadcastChannel and a fake Web Locks manager
 * standing in for the browser. Every tab is one `createAuthClient` in the same process.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, CSRF_HEADER, type AuthClient, type PublicUser } from './index.js';

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
const error = (status: number, code: string) =>
  json(status, { error: { code, message: `server says ${code}` } });

/** The URL of any fetch input. */
const urlOf = (input: RequestInfo | URL) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A BroadcastChannel between the "tabs" of one test: structured-cloned, delivered async. */
class FakeChannel {
  static open = new Set<FakeChannel>();
  static sent: unknown[] = [];
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly name: string) {
    FakeChannel.open.add(this);
  }
  postMessage(data: unknown) {
    FakeChannel.sent.push(data);
    for (const other of FakeChannel.open) {
      if (other === this || other.name !== this.name) continue;
      const copy = structuredClone(data);
      queueMicrotask(() => other.onmessage?.({ data: copy }));
    }
  }
  close() {
    FakeChannel.open.delete(this);
  }
}

/** One exclusive lock, FIFO, as navigator.locks grants it; `crash()` = the holder's tab closed. */
class FakeLocks {
  held = false;
  queue: (() => void)[] = [];
  requests = 0;
  private release: () => void = () => undefined;
  request<T>(_name: string, callback: () => Promise<T>): Promise<T> {
    this.requests += 1;
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        this.held = true;
        let done = false;
        this.release = () => {
          if (done) return;
          done = true;
          this.held = false;
          this.queue.shift()?.();
        };
        const release = this.release;
        // As the spec orders it: the lock is released (and granted to the next waiter) before
        // the holder's request promise settles.
        Promise.resolve().then(callback).finally(release).then(resolve, reject);
      };
      if (this.held) this.queue.push(run);
      else run();
    });
  }
  crash() {
    this.release();
  }
}

interface Sent {
  method: string;
  path: string;
  url: string;
  authorization: string | null;
  csrf: string | null;
  cookie: number | undefined;
}

/**
 * A token-mode server and the browser's cookie jar. Refresh tokens are numbers: the jar
 * holds one, the server knows the current one and the one just rotated (accepted again for
 * `retryWindow` ms, as the real server does); any other is reuse, which revokes the family.
 */
function tokenServer(options: { ttl?: number; date?: boolean } = {}) {
  const ttl = options.ttl ?? 600;
  const jar: { refresh: number | undefined } = { refresh: undefined };
  let current: number | undefined;
  let previous: { value: number; at: number } | undefined;
  let counter = 0;
  let family = 0;
  const expiry = new Map<string, number>();
  const sent: Sent[] = [];
  const stats = { refreshes: 0, inflight: 0, maxInflight: 0, reused: 0, lost: 0 };
  let gate: Promise<void> | undefined;
  let loseNext = false;

  const issue = () => {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + ttl;
    counter += 1;
    const accessToken = `${b64({ alg: 'EdDSA', typ: 'at+jwt' })}.${b64({ sub: alice.id, sid: `f${family}`, iat, exp, jti: `j${counter}` })}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
    expiry.set(accessToken, exp * 1000);
    const headers: Record<string, string> =
      options.date === false ? {} : { Date: new Date().toUTCString() };
    return { body: { user: alice, accessToken, accessTokenExpiresAt: iso(exp * 1000) }, headers };
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const valid = (authorization: string | null) => {
    const exp = expiry.get(authorization?.replace(/^Bearer /, '') ?? '');
    return exp !== undefined && Date.now() < exp;
  };
  const signIn = () => {
    family += 1;
    counter += 1;
    current = counter * 1000;
    previous = undefined;
    jar.refresh = current;
  };

  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const request = input instanceof Request ? input : undefined;
    const url = urlOf(input);
    const headers = new Headers(init.headers ?? request?.headers);
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const cookie = jar.refresh; // the browser attaches the cookie as the request leaves
    sent.push({
      method,
      path,
      url,
      authorization: headers.get('Authorization'),
      csrf: headers.get(CSRF_HEADER),
      cookie,
    });
    const route = `${method} ${path}`;
    if (route === 'POST /auth/refresh') {
      stats.refreshes += 1;
      stats.inflight += 1;
      stats.maxInflight = Math.max(stats.maxInflight, stats.inflight);
      try {
        if (gate) await gate;
        if (cookie === undefined || current === undefined) return error(401, 'unauthenticated');
        const retry =
          cookie !== current && cookie === previous?.value && Date.now() - previous.at <= 10_000;
        if (cookie !== current && !retry) {
          stats.reused += 1;
          current = undefined;
          jar.refresh = undefined;
          return error(401, 'token_reused');
        }
        if (!retry) previous = { value: current, at: Date.now() };
        current += 1;
        const { body, headers: extra } = issue();
        if (loseNext) {
          // The server rotated; the answer (and its Set-Cookie) never reaches the browser.
          loseNext = false;
          stats.lost += 1;
          return await new Promise<Response>(() => undefined);
        }
        jar.refresh = current;
        return json(200, body, extra);
      } finally {
        stats.inflight -= 1;
      }
    }
    if (route === 'POST /auth/login' || route === 'POST /auth/register') {
      signIn();
      const { body, headers: extra } = issue();
      return json(route.endsWith('login') ? 200 : 201, body, extra);
    }
    if (route === 'POST /auth/oidc/logout') {
      if (!valid(headers.get('Authorization'))) return error(401, 'unauthenticated');
      current = undefined;
      jar.refresh = undefined;
      return json(200, { redirectTo: 'https://id.example/session/end' });
    }
    if (route === 'POST /auth/logout') {
      current = undefined;
      jar.refresh = undefined;
      return new Response(null, { status: 204 });
    }
    if (route === 'POST /auth/password') {
      if (!valid(headers.get('Authorization'))) return error(401, 'unauthenticated');
      signIn();
      return new Response(null, { status: 204 });
    }
    if (!valid(headers.get('Authorization'))) return error(401, 'unauthenticated');
    if (route === 'GET /auth/session') {
      return json(200, {
        user: alice,
        session: { id: `f${family}`, createdAt: '', expiresAt: '', idleExpiresAt: '' },
      });
    }
    if (route.startsWith('DELETE /auth/sessions/')) {
      if (path.endsWith(`/f${family}`)) {
        current = undefined;
        jar.refresh = undefined;
      }
      return new Response(null, { status: 204 });
    }
    return json(200, { ok: true });
  };

  return {
    fetch: fetch satisfies typeof globalThis.fetch,
    jar,
    sent,
    stats,
    /** A browser that signed in before the page loaded: the refresh cookie is in the jar. */
    signedIn() {
      signIn();
      return this;
    },
    /** Holds every refresh answer until the returned function is called. */
    hold() {
      let open: () => void = () => undefined;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    loseNextRefresh() {
      loseNext = true;
    },
    /** Every access token the server handed out. */
    issued: () => [...expiry.keys()],
    refreshCalls: () => sent.filter((s) => s.path === '/auth/refresh'),
    api: () => sent.filter((s) => s.path.startsWith('/api/')),
  };
}

let locks: FakeLocks;
const clients: AuthClient[] = [];
/** A tab: its own client (own memory), the same server, jar, channel and locks. */
const tab = (fetch: typeof globalThis.fetch, extra: { now?: () => number } = {}) => {
  const client = createAuthClient({ mode: 'token', fetch, ...extra });
  clients.push(client);
  return client;
};
/** Lets timers due by then and every message and promise in between run. */
const pass = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2025-06-01T12:00:00.000Z') });
  vi.spyOn(Math, 'random').mockReturnValue(1); // no jitter: timings are exact
  FakeChannel.open.clear();
  FakeChannel.sent = [];
  locks = new FakeLocks();
  vi.stubGlobal('BroadcastChannel', FakeChannel);
  vi.stubGlobal('navigator', { locks });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('token mode: the access token', () => {
  it('start() refreshes silently; fetch() sends Authorization: Bearer and no CSRF header', async () => {
    const server = tokenServer().signedIn();
    const client = tab(server.fetch);
    await expect(client.start()).resolves.toEqual(alice);
    await client.fetch('/api/notes');
    await client.fetch('/api/notes', { method: 'POST', body: '{}' });
    const [get, post] = server.api();
    expect(get?.authorization).toMatch(/^Bearer eyJ/);
    expect(post?.authorization).toBe(get?.authorization);
    expect(post?.csrf).toBeNull();
    expect(server.sent.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /auth/refresh',
      'GET /api/notes',
      'POST /api/notes',
    ]);
  });

  it('a signed-out page: start() answers null without throwing, and fetch() sends no bearer', async () => {
    const server = tokenServer();
    const client = tab(server.fetch);
    const seen: (PublicUser | null)[] = [];
    client.onChange((u) => seen.push(u));
    await expect(client.start()).resolves.toBeNull();
    expect(seen).toEqual([null]);
    expect(client.getUser()).toBeNull();
    const response = await client.fetch('/api/notes');
    expect(response.status).toBe(401);
    expect(server.api()[0]?.authorization).toBeNull();
    // Signed out: a 401 is not followed by a refresh that cannot succeed.
    expect(server.refreshCalls()).toHaveLength(1);
  });

  it('the token goes only to the server’s own origin, never to a third party', async () => {
    const server = tokenServer().signedIn();
    const client = createAuthClient({
      mode: 'token',
      fetch: server.fetch,
      baseUrl: 'https://app.test',
      channelName: false,
    });
    clients.push(client);
    await client.start();
    await client.fetch('/api/a');
    await client.fetch('https://app.test/api/b');
    await client.fetch('https://cdn.example/data.json');
    await client.fetch(new Request('https://evil.example/steal'));
    expect(server.sent.slice(1).map((s) => [s.url, Boolean(s.authorization)])).toEqual([
      ['https://app.test/api/a', true],
      ['https://app.test/api/b', true],
      ['https://cdn.example/data.json', false],
      ['https://evil.example/steal', false],
    ]);
  });

  it('is never written to Web Storage, IndexedDB, a cookie, a global or a URL', async () => {
    const writes: unknown[] = [];
    const storage = () => ({
      setItem: (...args: unknown[]) => writes.push(['storage', ...args]),
      getItem: () => null,
      removeItem: () => undefined,
      key: () => null,
      length: 0,
    });
    const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    Object.defineProperty(document, 'cookie', {
      get: () => '',
      set: (value: unknown) => writes.push(['cookie', value]),
    });
    vi.stubGlobal('localStorage', storage());
    vi.stubGlobal('sessionStorage', storage());
    vi.stubGlobal('document', document);
    vi.stubGlobal('indexedDB', { open: (...args: unknown[]) => writes.push(['idb', ...args]) });
    vi.stubGlobal('caches', { open: (...args: unknown[]) => writes.push(['caches', ...args]) });
    const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));

    const server = tokenServer();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await b.start();
    await a.login({ email: 'alice@example.com', password: 'pw' });
    await pass();
    await b.fetch('/api/notes');
    await pass(600_000); // a few scheduled refreshes, shared with the other tab
    await a.fetch('/api/notes', { method: 'POST', body: '{}' });
    await a.session();
    await a.changePassword({ currentPassword: 'pw', newPassword: 'pw2' });

    const tokens = server.issued();
    expect(tokens.length).toBeGreaterThan(2);
    expect(server.sent.filter((s) => s.authorization).length).toBeGreaterThan(2);
    expect(writes).toEqual([]);
    // No new global, and no global string holds a token.
    expect(Object.getOwnPropertyNames(globalThis).filter((k) => !globalsBefore.has(k))).toEqual([]);
    for (const key of Object.getOwnPropertyNames(globalThis)) {
      const value: unknown = Reflect.get(globalThis, key);
      if (typeof value === 'string') for (const t of tokens) expect(value).not.toContain(t);
    }
    for (const s of server.sent) for (const t of tokens) expect(s.url).not.toContain(t);
    // The client object exposes no property holding it either.
    for (const client of [a, b]) {
      for (const t of tokens) expect(JSON.stringify(Object.entries(client))).not.toContain(t);
    }
  });
});

describe('token mode: silent refresh', () => {
  it('renews before expiry: 10 min token at 80% of its life, 1 min token 30 s before', async () => {
    for (const [ttl, earliest, latest] of [
      [600, 478_000, 480_000],
      [60, 28_000, 30_000],
    ] as const) {
      const server = tokenServer({ ttl }).signedIn();
      const client = tab(server.fetch);
      await client.start();
      await pass(earliest);
      expect(server.refreshCalls()).toHaveLength(1);
      await pass(latest - earliest);
      expect(server.refreshCalls()).toHaveLength(2);
      // And again, a lifetime later: a steady rhythm, no flurry.
      await pass(latest);
      expect(server.refreshCalls()).toHaveLength(3);
      expect(server.stats.reused).toBe(0);
      client.close();
    }
  });

  it('a browser clock an hour off (either way) does not cause a refresh loop', async () => {
    for (const skew of [3_600_000, -3_600_000]) {
      for (const date of [true, false]) {
        const server = tokenServer({ ttl: 600, date }).signedIn();
        const client = tab(server.fetch, { now: () => Date.now() + skew });
        await client.start();
        for (let i = 0; i < 20; i++) await client.fetch('/api/notes');
        expect(server.refreshCalls()).toHaveLength(1);
        await pass(3_600_000);
        // One hour of 10-minute tokens renewed at 80%: 7 refreshes, not thousands.
        expect(server.refreshCalls()).toHaveLength(1 + 7);
        expect(server.api().every((s) => s.authorization)).toBe(true);
        const response = await client.fetch('/api/notes');
        expect(response.status).toBe(200);
        client.close();
      }
    }
  });

  it('concurrent 401s share one refresh, and each request is retried once', async () => {
    const server = tokenServer({ ttl: 600 }).signedIn();
    // A clock that stands still: the client believes its token is good, only the 401s tell.
    const fooled = tab(server.fetch, { now: () => 0 });
    await fooled.start();
    vi.setSystemTime(Date.now() + 601_000);
    const release = server.hold();
    const responses = Promise.all(
      ['/api/a', '/api/b', '/api/c'].map((p) =>
        fooled.fetch(p, { method: 'POST', body: JSON.stringify({ p }) }),
      ),
    );
    await pass();
    release();
    expect((await responses).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(server.refreshCalls()).toHaveLength(2); // start() and the one shared refresh
    expect(locks.requests).toBe(2); // the three 401s did not even queue for the lock apart
    expect(server.stats.maxInflight).toBe(1);
    expect(server.api()).toHaveLength(6);
    const retried = server.api().slice(3);
    expect(new Set(retried.map((s) => s.authorization)).size).toBe(1);
  });

  it('retries once only: a 401 after the refresh is handed back', async () => {
    const server = tokenServer().signedIn();
    let api = 0;
    const client = tab(async (input, init) =>
      urlOf(input).startsWith('/api/')
        ? (api++, error(401, 'unauthenticated'))
        : server.fetch(input, init),
    );
    await client.start();
    const response = await client.fetch('/api/notes');
    expect(response.status).toBe(401);
    expect(api).toBe(2);
    expect(server.refreshCalls()).toHaveLength(2);
  });

  it('a tab woken from sleep renews its expired token before using it (no 401 first)', async () => {
    const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    vi.stubGlobal('document', document);
    const server = tokenServer({ ttl: 600 }).signedIn();
    const client = tab(server.fetch);
    await client.start();
    // Two hours pass with no timer running (the laptop slept); then the page is shown again.
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    document.dispatchEvent(new Event('visibilitychange'));
    await pass();
    expect(server.refreshCalls()).toHaveLength(2);
    expect((await client.fetch('/api/notes')).status).toBe(200);
    expect(server.api()).toHaveLength(1);
  });

  it('a request made right after sleep waits for the renewal instead of failing', async () => {
    const server = tokenServer({ ttl: 600 }).signedIn();
    const client = tab(server.fetch);
    await client.start();
    client.close(); // no timer, no events: only the request itself notices
    vi.setSystemTime(Date.now() + 3_600_000);
    expect((await client.fetch('/api/notes')).status).toBe(200);
    expect(server.sent.slice(-2).map((s) => s.path)).toEqual(['/auth/refresh', '/api/notes']);
    expect(server.api()).toHaveLength(1); // no 401 round trip first
  });

  it('a failed refresh keeps the token and tries again soon, inside the retry window', async () => {
    const server = tokenServer({ ttl: 600 }).signedIn();
    let offline = false;
    const client = tab((input, init) =>
      offline ? Promise.reject(new TypeError('Failed to fetch')) : server.fetch(input, init),
    );
    await client.start();
    offline = true;
    await pass(480_000);
    const attempts = () => server.sent.length;
    expect(client.getUser()).toEqual(alice);
    offline = false;
    const before = attempts();
    await pass(2_000);
    expect(attempts()).toBe(before + 1);
    expect(server.refreshCalls()).toHaveLength(2);
    expect(client.getUser()).toEqual(alice);
  });

  it('errors keep their server codes: a store outage at start() rejects with store_unavailable', async () => {
    const client = tab(() => Promise.resolve(error(503, 'store_unavailable')));
    await expect(client.start()).rejects.toMatchObject({
      name: 'LatchkeyError',
      code: 'store_unavailable',
      status: 503,
    });
    expect(client.getUser()).toBeUndefined();
  });

  it('token_reused from a refresh signs this tab out', async () => {
    const server = tokenServer().signedIn();
    const client = tab(server.fetch);
    await client.start();
    server.jar.refresh = 1; // a stale cookie: the server sees reuse
    client.close();
    const seen: (PublicUser | null)[] = [];
    client.onChange((u) => seen.push(u));
    vi.setSystemTime(Date.now() + 601_000);
    await client.fetch('/api/notes');
    expect(server.stats.reused).toBe(1);
    expect(seen).toEqual([null]);
  });
});

describe('token mode: many tabs', () => {
  it('tabs opened together refresh one at a time; later tabs take the fresh token', async () => {
    const server = tokenServer().signedIn();
    const tabs = [tab(server.fetch), tab(server.fetch), tab(server.fetch)];
    const users = await Promise.all(tabs.map((t) => t.start()));
    expect(users).toEqual([alice, alice, alice]);
    expect(server.stats.maxInflight).toBe(1);
    expect(server.stats.reused).toBe(0);
    expect(server.refreshCalls()).toHaveLength(1);
    for (const t of tabs) await t.fetch('/api/notes');
    expect(new Set(server.api().map((s) => s.authorization)).size).toBe(1);
  });

  it('the tab that refreshed shares the token; the others do not refresh at all', async () => {
    const server = tokenServer({ ttl: 600 }).signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start(); // took a's token from the channel: no request
    expect(server.refreshCalls()).toHaveLength(1);
    await pass(3_600_000);
    // Both tabs were due at the same moment each time; one refreshed, one took the result.
    expect(server.refreshCalls()).toHaveLength(1 + 7);
    expect(server.stats.maxInflight).toBe(1);
    expect(server.stats.reused).toBe(0);
    await a.fetch('/api/a');
    await b.fetch('/api/b');
    const [fromA, fromB] = server.api();
    expect(fromA?.authorization).toBe(fromB?.authorization);
    const shared = FakeChannel.sent.filter((m) => (m as { type: string }).type === 'token');
    expect(shared).toHaveLength(8);
  });

  it('a tab waiting for the lock uses the token another tab just got instead of rotating again', async () => {
    const server = tokenServer({ ttl: 600 }).signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    // Both tokens lapse with no timer having run (sleep); both tabs need a new one at once.
    vi.setSystemTime(Date.now() + 601_000);
    const release = server.hold();
    const fromA = a.fetch('/api/a');
    await pass();
    const fromB = b.fetch('/api/b'); // wants a refresh too → waits for a's lock
    await pass();
    release();
    expect((await fromA).status).toBe(200);
    expect((await fromB).status).toBe(200);
    expect(server.refreshCalls()).toHaveLength(2); // a's start and one renewal
    expect(server.stats.reused).toBe(0);
  });

  it('without Web Locks, a tab still refreshes once at a time (single flight)', async () => {
    vi.stubGlobal('navigator', undefined);
    const server = tokenServer().signedIn();
    const client = tab(server.fetch);
    await Promise.all([client.start(), client.start(), client.session(), client.fetch('/api/x')]);
    expect(server.refreshCalls()).toHaveLength(1);
    expect(server.stats.maxInflight).toBe(1);
  });

  it('sign-out in one tab signs out all tabs', async () => {
    const server = tokenServer().signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start();
    const seen: (PublicUser | null)[] = [];
    b.onChange((u) => seen.push(u));
    await a.logout();
    await pass();
    expect(seen).toEqual([null]);
    expect(b.getUser()).toBeNull();
    const response = await b.fetch('/api/notes');
    expect(response.status).toBe(401);
    expect(server.api()[0]?.authorization).toBeNull();
    // b forgot its token and its timer: nothing more is sent.
    const count = server.sent.length;
    await pass(3_600_000);
    expect(server.sent).toHaveLength(count);
  });

  it('logoutWithProvider sends the bearer token to /auth/oidc/logout and signs out all tabs', async () => {
    const server = tokenServer().signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start();
    await expect(a.logoutWithProvider()).resolves.toBe('https://id.example/session/end');
    await pass();
    expect([a.getUser(), b.getUser()]).toEqual([null, null]);
    const out = server.sent.find((s) => s.path === '/auth/oidc/logout');
    expect(out?.authorization).toMatch(/^Bearer /);
  });

  it('a 401 to a request that left before this tab heard of a sign-out does not refresh', async () => {
    const server = tokenServer().signedIn();
    let release: () => void = () => undefined;
    // The request is on its way while the other tab signs out; the server then refuses
    // its token (the family was revoked), as Latchkey does.
    const revokedOnTheWay: typeof globalThis.fetch = async (input, init) => {
      if (!urlOf(input).endsWith('/api/notes')) return server.fetch(input, init);
      await new Promise<void>((resolve) => (release = resolve));
      return error(401, 'unauthenticated');
    };
    const a = tab(server.fetch);
    const b = tab(revokedOnTheWay);
    await a.start();
    await pass();
    await b.start();
    const onTheWay = b.fetch('/api/notes');
    await pass();
    await a.logout();
    await pass();
    expect(b.getUser()).toBeNull();
    const refreshes = server.refreshCalls().length;
    release();
    expect((await onTheWay).status).toBe(401);
    await pass();
    expect(server.refreshCalls()).toHaveLength(refreshes);
  });

  it('a renewal queued for the lock behind a sign-out hears of it first and sends nothing', async () => {
    const server = tokenServer().signedIn();
    let answer: () => void = () => undefined;
    const slowLogout: typeof globalThis.fetch = async (input, init) => {
      if (urlOf(input).endsWith('/auth/logout')) await new Promise<void>((r) => (answer = r));
      return server.fetch(input, init);
    };
    const a = tab(slowLogout);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start();
    const refreshes = server.refreshCalls().length;
    const out = a.logout();
    await pass(480_000); // both renewals come due while a's sign-out holds the lock
    expect(locks.queue.length).toBe(2);
    answer();
    await out;
    await pass();
    expect(b.getUser()).toBeNull();
    // Neither queued renewal presented the cookie the sign-out had just revoked.
    expect(server.refreshCalls()).toHaveLength(refreshes);
  });

  it('sign-in in one tab signs in the others, with the shared token', async () => {
    const server = tokenServer();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await Promise.all([a.start(), b.start()]);
    expect(b.getUser()).toBeNull();
    await a.login({ email: 'alice@example.com', password: 'pw' });
    await pass();
    expect(b.getUser()).toEqual(alice);
    await b.fetch('/api/notes');
    expect(server.api()[0]?.authorization).toMatch(/^Bearer /);
    expect(server.refreshCalls()).toHaveLength(2); // the two signed-out starts only
  });

  it('revoking the current session in one tab signs out all tabs; another session does not', async () => {
    const server = tokenServer().signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start();
    await a.revokeSession('f999');
    await pass();
    expect([a.getUser(), b.getUser()]).toEqual([alice, alice]);
    await a.revokeSession('f1');
    await pass();
    expect([a.getUser(), b.getUser()]).toEqual([null, null]);
  });

  it('password change: the new family’s token, fetched under the lock, reaches every tab', async () => {
    const server = tokenServer().signedIn();
    const a = tab(server.fetch);
    const b = tab(server.fetch);
    await a.start();
    await pass();
    await b.start();
    await a.changePassword({ currentPassword: 'x', newPassword: 'y' });
    await pass();
    const session = await b.session();
    expect(session?.session.id).toBe('f2');
    expect(server.stats.reused).toBe(0);
    expect(server.sent.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /auth/refresh',
      'POST /auth/password',
      'POST /auth/refresh',
      'GET /auth/session',
    ]);
  });

  it('a tab closed mid-refresh: another tab redoes it at once, inside the retry window', async () => {
    // a's timer is due at 90% of c's (jitter), so c's own renewal would come far too late.
    vi.mocked(Math.random).mockReturnValueOnce(0);
    const server = tokenServer({ ttl: 600 }).signedIn();
    const a = tab(server.fetch);
    const c = tab(server.fetch);
    await a.start();
    await pass();
    await c.start();
    expect(server.refreshCalls()).toHaveLength(1);

    server.loseNextRefresh(); // a's next refresh reaches the server; a never sees the answer
    await pass(432_000); // a's timer fires at 0.9 × 479.2 s
    expect(server.stats.lost).toBe(1);
    const jarBefore = server.jar.refresh;
    locks.crash(); // a's tab closes: the browser releases its lock
    a.close();
    await pass(300); // c waits a moment for an answer that never comes, then refreshes
    expect(server.refreshCalls()).toHaveLength(3); // at 432.3 s, 47 s before c's own timer
    expect(server.refreshCalls()[2]?.cookie).toBe(jarBefore); // the pre-rotation cookie…
    expect(server.stats.reused).toBe(0); // …accepted as a retry: the family lives on
    expect(server.jar.refresh).not.toBe(jarBefore);
    expect((await c.fetch('/api/notes')).status).toBe(200);
    await pass(600_000);
    expect(server.stats.reused).toBe(0);
    expect(c.getUser()).toEqual(alice);
  });
});

describe('session mode across tabs', () => {
  const sessionServer = () => {
    let signedIn = false;
    const calls: string[] = [];
    const answer = (input: RequestInfo | URL, init: RequestInit) => {
      const route = `${init.method ?? 'GET'} ${urlOf(input)}`;
      calls.push(route);
      if (route === 'POST /auth/login') {
        signedIn = true;
        return json(200, { user: alice });
      }
      if (route === 'POST /auth/logout') {
        signedIn = false;
        return new Response(null, { status: 204 });
      }
      if (route === 'GET /auth/session') {
        return signedIn
          ? json(200, {
              user: alice,
              session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
              csrfToken: 'c1',
            })
          : error(401, 'unauthenticated');
      }
      return new Response(null, { status: 204 });
    };
    const fetch = (input: RequestInfo | URL, init: RequestInit = {}) =>
      Promise.resolve(answer(input, init));
    return { fetch: fetch satisfies typeof globalThis.fetch, calls };
  };

  it('sign-in and sign-out in one tab reach the other tab', async () => {
    const server = sessionServer();
    const a = createAuthClient({ fetch: server.fetch });
    const b = createAuthClient({ fetch: server.fetch });
    clients.push(a, b);
    expect(a.mode).toBe('session');
    await Promise.all([a.start(), b.start()]);
    await a.login({ email: 'a', password: 'b' });
    await pass();
    expect(b.getUser()).toEqual(alice);
    await a.logout();
    await pass();
    expect(b.getUser()).toBeNull();
    expect(server.calls.filter((c) => c.includes('refresh'))).toEqual([]);
    expect(locks.requests).toBe(0);
  });
});
