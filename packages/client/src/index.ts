/**
 * The Latchkey browser client: sign-in calls, the session, and a `fetch` wrapper for the
 * app's own API. Browser-only, no dependencies, injectable fetch and clock.
 *
 * Session mode: the credential is an HttpOnly cookie this code never sees; the client keeps
 * just the session-bound CSRF token, in memory, and sends it on unsafe requests.
 *
 * Token mode: the access token lives in one closure variable (`access` below) and nowhere
 * else: never Web Storage, IndexedDB, a cookie, a global or a URL. The refresh token is the
 * HttpOnly cookie `__Host-Http-refresh` (Path=/; the server reads it only on /auth/refresh and
 * /auth/logout). Tabs of the app coordinate: one refresh at a time across tabs
 * (Web Locks), the fresh access token handed to the others in memory (BroadcastChannel),
 * sign-out in one tab signs out all of them.
 */
import type {
  ErrorCode as WireErrorCode,
  PublicUser,
  SessionListResponse,
  SessionResponse,
  TokenResponse,
  UserResponse,
} from '@latchkey/wire';
import { CSRF_HEADER } from '@latchkey/wire';

export type {
  PublicUser,
  SessionInfo,
  SessionListItem,
  SessionListResponse,
  SessionResponse,
  TokenResponse,
} from '@latchkey/wire';
export { CSRF_HEADER };

/** Every code a `LatchkeyError` can carry: the server's codes plus `network_error`. */
export type ErrorCode = WireErrorCode | 'network_error';

/** Any failed call: `code` is stable (switch on it), `message` is for people. */
export class LatchkeyError extends Error {
  override readonly name = 'LatchkeyError';
  readonly code: ErrorCode;
  /** HTTP status; `0` when no answer arrived (`network_error`). */
  readonly status: number;
  /** Seconds to wait, from `Retry-After` (set on `rate_limited`). */
  declare readonly retryAfter?: number;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  /** Reads a failed response's `{ error: { code, message } }` body into an error. */
  static async fromResponse(response: Response): Promise<LatchkeyError> {
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: unknown; message?: unknown };
    } | null;
    const code = body?.error?.code;
    const message = body?.error?.message;
    return new LatchkeyError(
      typeof code === 'string' ? (code as ErrorCode) : 'internal_error',
      response.status,
      typeof message === 'string' ? message : `Unexpected response (${response.status}).`,
      { retryAfter: parseRetryAfter(response.headers.get('Retry-After')) },
    );
  }
}

/** `Retry-After` is delta-seconds or an HTTP date; either becomes whole seconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** `session`: HttpOnly session cookie + CSRF header. `token`: in-memory bearer + refresh cookie. */
export type AuthMode = 'session' | 'token';

export interface AuthClientOptions {
  /** Must match the server's `LATCHKEY_MODE`. @default 'session' */
  mode?: AuthMode;
  /**
   * Origin and/or path prefix of the server (`https://api.example`, `/app`); credentials go
   * only to its origin. @default '' (the page's origin, no prefix)
   */
  baseUrl?: string;
  /** The fetch implementation, injectable for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The clock, injectable for tests. Only differences between two readings are used (token
   * lifetimes come from the server), so a browser clock that is off cannot cause refresh loops.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The BroadcastChannel the app's tabs talk on (the Web Lock is named `<channelName>-refresh`);
   * `false` keeps this client to itself. @default 'latchkey'
   */
  channelName?: string | false;
}

export interface AuthClient {
  readonly mode: AuthMode;
  /**
   * Finds out who is signed in, once, on page load: in token mode a silent `POST /auth/refresh`
   * (a signed-out page answers `null`, quietly), in session mode `GET /auth/session`.
   */
  start(): Promise<PublicUser | null>;
  /** `POST /auth/register`; signs the new user in (in every tab). */
  register(input: { email: string; password: string; name?: string }): Promise<PublicUser>;
  /** `POST /auth/login`; signs in every tab. */
  login(input: { email: string; password: string }): Promise<PublicUser>;
  /** `POST /auth/logout`: revokes the session server-side and signs out every tab. */
  logout(): Promise<void>;
  /** `GET /auth/session`; `null` when signed out (`unauthenticated` or `session_expired`). */
  session(): Promise<SessionResponse | null>;
  /** `GET /auth/sessions`: the caller's sessions on every device. */
  sessions(): Promise<SessionListResponse>;
  /** `DELETE /auth/sessions/:id`; revoking the current session signs out. */
  revokeSession(id: string): Promise<void>;
  /** `DELETE /auth/sessions`: every session except this one. */
  revokeOtherSessions(): Promise<void>;
  /** `POST /auth/password`; this session continues under a new id, all others end. */
  changePassword(input: { currentPassword: string; newPassword: string }): Promise<void>;
  /**
   * `fetch` for the app's own API. Session mode: unsafe methods (POST, PUT, PATCH, DELETE)
   * carry the `X-CSRF-Token` header, and one `403 csrf_failed` is retried with a fresh token.
   * Token mode: every request carries `Authorization: Bearer`, and one `401` is retried after a
   * refresh. Credentials go only to the server's own origin. Answers are returned as they are
   * (check `response.ok`; `LatchkeyError.fromResponse` reads an error body); a `401` that ends
   * the session also notifies `onChange`. A string path starting with `/` is prefixed with
   * `baseUrl`; a string or `URL` is then resolved as fetch resolves it (against the page), the
   * origin checked, and the resolved URL sent.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * Calls `listener` whenever the signed-in user changes; returns the unsubscribe.
   * Safe to pass around unbound (e.g. to React's `useSyncExternalStore`).
   */
  onChange: (listener: (user: PublicUser | null) => void) => () => void;
  /** The last known user: `undefined` until the first answer says either way. Unbound-safe. */
  getUser: () => PublicUser | null | undefined;
  /** Stops timers and cross-tab messages (tests, hot reload). The client stays usable. */
  close(): void;
}

/** What tabs tell each other. The token message stays in memory: no storage is involved. */
type Message =
  | { type: 'token'; token: string; user: PublicUser; life: number; left: number }
  | { type: 'refreshing' | 'done' | 'in' }
  | { type: 'out'; sid?: string | undefined };

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SIGNED_OUT = new Set<string>(['unauthenticated', 'session_expired', 'token_reused']);
const HOUR = 3_600_000;
/** Stands in for the page's origin where there is no page (never a real host: RFC 6761). */
const NO_PAGE = 'http://latchkey.invalid';
const noop = () => undefined;

/** The claims a client may look at (never trusted: the server checks them). */
function claims(jwt: string): { sid?: string; iat?: number; exp?: number } {
  try {
    const part = (jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)) as { sid?: string; iat?: number; exp?: number };
  } catch {
    return {};
  }
}

/**
 * How long a fresh access token lives, in ms, measured by the server's clock only:
 * `accessTokenExpiresAt` minus the response's `Date` (whole seconds, so one second is taken
 * off), bounded by the token's own `exp - iat`. The browser's clock never enters into it.
 */
function lifetime(response: Response, body: TokenResponse): number {
  const { iat, exp } = claims(body.accessToken);
  const own = iat !== undefined && exp !== undefined ? (exp - iat - 1) * 1000 : HOUR;
  const dated =
    Date.parse(body.accessTokenExpiresAt) - Date.parse(response.headers.get('Date') ?? '') - 1000;
  return Math.min(Math.max(dated > 0 && dated <= own ? dated : own, 1000), HOUR);
}

/**
 * Creates a client for one Latchkey server. Every request is sent with
 * `credentials: 'same-origin'`; failures throw `LatchkeyError`.
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const mode = options.mode ?? 'session';
  const tokenMode = mode === 'token';
  // Without a trailing slash: `baseUrl + '/auth/…'` must stay one path (`/` + `/auth` would be
  // the protocol-relative URL of a host named `auth`).
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = options.now ?? (() => Date.now());
  const channelName = options.channelName ?? 'latchkey';
  const listeners = new Set<(user: PublicUser | null) => void>();
  let user: PublicUser | null | undefined;
  let sessionId: string | undefined;
  // The CSRF token, or the request that is fetching it (shared by concurrent callers).
  let csrf: Promise<string | undefined> | undefined;
  let starting: Promise<PublicUser | null> | undefined;

  // Token mode. The access token lives in `access` and nowhere else.
  let access: string | undefined;
  let life = 0; // its lifetime, by the server's clock (ms)
  let expires = 0; // now() at which it expires
  let due = 0; // now() at which to renew it
  let generation = 0; // bumped whenever `access` changes
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = 0;
  let refreshing: Promise<string | undefined> | undefined;
  // Another tab announced a refresh and has not told how it ended (if it closed, redo it).
  let orphan = false;
  let answered: () => void = noop;

  // Everything that can rotate or replace the refresh cookie runs under this lock: across tabs
  // with the Web Locks API, or (without it) within this tab only.
  const locks = tokenMode ? globalThis.navigator?.locks : undefined;
  const lockName = `${channelName || 'latchkey'}-refresh`;
  let chain: Promise<unknown> = Promise.resolve();
  const withLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (locks) return locks.request(lockName, fn);
    const run = chain.then(fn);
    chain = run.catch(noop);
    return run;
  };

  const Channel = channelName ? globalThis.BroadcastChannel : undefined;
  const channel = Channel ? new Channel(channelName as string) : undefined;
  const post = (message: Message) => {
    try {
      channel?.postMessage(message);
    } catch {
      // A closed channel: this tab simply stops telling the others.
    }
  };

  const setUser = (next: PublicUser | null, always = false) => {
    if (!always && user !== undefined && user?.id === next?.id) return;
    user = next;
    for (const listener of [...listeners]) {
      try {
        listener(next);
      } catch (error) {
        // A broken listener must not break the call that changed the user.
        setTimeout(() => {
          throw error;
        });
      }
    }
  };

  /** Forgets every credential; `tell` signs out the other tabs too. */
  const signedOut = (tell = false) => {
    if (tell) post({ type: 'out' });
    csrf = undefined;
    sessionId = undefined;
    access = undefined;
    expires = due = 0;
    generation += 1;
    clearTimeout(timer);
    setUser(null);
  };

  const settle = () => {
    orphan = false;
    answered();
  };

  /** Plans the next refresh: at 80% of the lifetime, or 30 s before expiry if that is earlier. */
  const schedule = (delay?: number) => {
    clearTimeout(timer);
    if (delay === undefined) {
      if (!access) return;
      due = expires - Math.min(Math.max(life / 5, 30_000), life / 2);
      // A little jitter, so that of many tabs one renews first and hands the token to the rest.
      delay = Math.max(due - now(), 500) * (0.9 + Math.random() * 0.1);
    }
    timer = setTimeout(() => void refresh().catch(noop), delay);
  };

  const install = (token: string, lifeMs: number, leftMs: number) => {
    access = token;
    life = lifeMs;
    expires = now() + leftMs;
    generation += 1;
    backoff = 0;
    sessionId = claims(token).sid;
    settle();
    schedule();
  };

  /** `POST /auth/refresh`, holding the lock; tells the other tabs before and after. */
  const rotate = async (): Promise<string | undefined> => {
    post({ type: 'refreshing' });
    let told = false;
    try {
      const response = await raw(`${baseUrl}/auth/refresh`, { method: 'POST' });
      if (response.ok) {
        const body = (await response.json()) as TokenResponse;
        const ms = lifetime(response, body);
        install(body.accessToken, ms, ms);
        post({ type: 'token', token: body.accessToken, user: body.user, life: ms, left: ms });
        told = true;
        setUser(body.user);
        return access;
      }
      const error = await LatchkeyError.fromResponse(response);
      if (response.status !== 401 || !SIGNED_OUT.has(error.code)) throw error;
      // The family ended (or there never was one): a signed-in tab tells the others.
      const sid = sessionId;
      if (user) post({ type: 'out', sid });
      signedOut();
      return undefined;
    } catch (error) {
      // Offline or the store is down: keep the token (it may still be good) and try again
      // soon, while a response that was lost on the way is still inside the retry window.
      if (access || user) schedule((backoff = Math.min(backoff * 2 || 2000, 60_000)));
      throw error;
    } finally {
      if (!told) post({ type: 'done' });
      settle();
    }
  };

  /** One refresh at a time: in this tab by sharing the promise, across tabs by the lock. */
  const refresh = (): Promise<string | undefined> =>
    (refreshing ??= (async () => {
      const seen = generation;
      try {
        // If another tab refreshed (or signed out) while this one waited, take that outcome:
        // rotating the same cookie twice is what the lock is there to prevent.
        return await withLock(() =>
          generation === seen || (access && now() >= expires) ? rotate() : Promise.resolve(access),
        );
      } finally {
        refreshing = undefined;
      }
    })());

  /** Renews the token; `locked` when the caller already holds the lock. */
  const renew = (locked: boolean) => (locked ? rotate() : refresh());

  /** The token to send: waits for a refresh in flight; renews one that expired (sleep). */
  const bearer = async (locked: boolean) => {
    if (refreshing && !locked) await refreshing.catch(noop);
    if (access && now() >= expires) await renew(locked).catch(noop);
    return access;
  };

  /** A tab that was asleep (or frozen, or offline) renews a token whose time has come. */
  const wake = () => {
    if (access && now() >= due && globalThis.document?.visibilityState !== 'hidden') {
      void refresh().catch(noop);
    }
  };
  const target = tokenMode ? globalThis.document : undefined;
  target?.addEventListener('visibilitychange', wake);
  if (tokenMode) {
    for (const type of ['pageshow', 'online', 'focus']) globalThis.addEventListener?.(type, wake);
  }

  const receive = (data: Message) => {
    switch (data?.type) {
      case 'out':
        if (!data.sid || data.sid === sessionId) signedOut();
        break;
      case 'in':
        if (!tokenMode) void session().catch(noop);
        break;
      case 'token':
        if (tokenMode && typeof data.token === 'string' && data.left > 0) {
          install(data.token, data.life, data.left);
          setUser(data.user);
        }
        break;
      case 'done':
        settle();
        break;
      case 'refreshing':
        if (!locks) break;
        orphan = true;
        // Queue behind that tab. If the lock comes back without an answer, that tab closed
        // mid-refresh: redo it now, while its request (if it arrived) is in the retry window.
        void withLock(async () => {
          if (orphan) {
            await new Promise<void>((resolve) => {
              answered = resolve;
              setTimeout(resolve, 250); // the answer may still be on its way
            });
          }
          answered = noop;
          if (orphan) await rotate();
        }).catch(noop);
    }
  };
  if (channel) channel.onmessage = (event: MessageEvent<Message>) => receive(event.data);

  const errorCode = async (response: Response) =>
    (
      (await response
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: string } } | null
    )?.error?.code;

  const raw = async (input: RequestInfo | URL, init: RequestInit) => {
    try {
      return await doFetch(input, { ...init, credentials: 'same-origin' });
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'AbortError') throw error;
      throw new LatchkeyError('network_error', 0, 'Could not reach the server.', { cause: error });
    }
  };

  /** `url` resolved against `base`; `undefined` if it does not parse. */
  const resolve = (url: string, base: string | URL) => {
    try {
      return new URL(url, base);
    } catch {
      return undefined;
    }
  };

  /**
   * Where a request goes, decided once: the URL resolved here is the one sent, so the origin
   * checked is the origin fetched (a string is never re-parsed by the browser: `/\evil.example`
   * or `/<tab>/evil.example` are other origins, not paths). `ours`: it is the server's own
   * origin (`baseUrl`'s, or the page's), so credentials may go with it; a URL that does not
   * parse is not ours.
   */
  const destination = (input: RequestInfo | URL): { target: RequestInfo | URL; ours: boolean } => {
    // The page's address (a placeholder without a page: tests, server rendering), and the base
    // fetch resolves against: the document's base URL, which a <base> element may move away.
    const page = globalThis.location?.href ?? resolve(baseUrl, NO_PAGE) ?? NO_PAGE;
    // A Request (of this realm or another) is sent as it is: its URL is absolute already.
    const request = typeof input === 'object' && typeof (input as Request).url === 'string';
    const href: unknown =
      typeof input === 'string' ? input : request ? (input as Request).url : (input as URL).href;
    const url =
      typeof href === 'string' ? resolve(href, globalThis.document?.baseURI ?? page) : undefined;
    const origin = resolve(baseUrl || '/', page)?.origin;
    // An opaque origin ('null': file:, data:, custom schemes) is nobody's own.
    const ours = url !== undefined && url.origin === origin && origin !== 'null';
    if (!url || request) return { target: input, ours };
    // No page to resolve against: a path on the server's own origin stays a path.
    return { target: url.origin === NO_PAGE ? url.href.slice(NO_PAGE.length) : url.href, ours };
  };

  const csrfToken = () =>
    (csrf ??= session().then(
      (s) => s?.csrfToken,
      (error: unknown) => {
        csrf = undefined;
        throw error;
      },
    ));

  /**
   * One request with credentials attached (`auth`); retries a stale credential once.
   * `locked`: the caller holds the refresh lock (so renews without queueing for it).
   */
  const send = async (
    input: RequestInfo | URL,
    init: RequestInit,
    auth: boolean,
    locked = false,
  ) => {
    if (typeof input === 'string' && input.startsWith('/')) input = baseUrl + input;
    const where = destination(input);
    input = where.target;
    auth &&= where.ours;
    const request = input instanceof Request ? input : undefined;
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const guarded = auth && !tokenMode && UNSAFE.has(method);
    const replayable = !(init.body instanceof ReadableStream);
    const replay = (guarded || (auth && tokenMode)) && request ? request.clone() : input;
    const attempt = async (target: RequestInfo | URL, token?: string) => {
      const headers = new Headers(init.headers ?? request?.headers);
      const csrfValue = guarded ? await csrfToken() : undefined;
      if (csrfValue) headers.set(CSRF_HEADER, csrfValue);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      return raw(target, { ...init, headers });
    };
    const sent = auth && tokenMode ? await bearer(locked) : undefined;
    let response = await attempt(input, sent);
    if (
      guarded &&
      replayable &&
      response.status === 403 &&
      (await errorCode(response)) === 'csrf_failed'
    ) {
      csrf = undefined;
      response = await attempt(replay);
    }
    if (sent && replayable && response.status === 401) {
      let fresh: string | undefined;
      try {
        // Another tab (or call) may have renewed it meanwhile; otherwise refresh, once.
        fresh = access !== sent && now() < expires ? access : await renew(locked);
      } catch {
        return response; // offline or store down: not a reason to sign out
      }
      if (!fresh) return response; // the refresh found the session over and said so
      response = await attempt(replay, fresh);
    }
    if (response.status === 401 && SIGNED_OUT.has((await errorCode(response)) ?? '')) signedOut();
    return response;
  };

  /** An auth route: JSON in, JSON (or nothing) out, errors thrown. */
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    auth = true,
    locked = false,
  ) => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await send(baseUrl + path, init, auth, locked);
    if (!response.ok) throw await LatchkeyError.fromResponse(response);
    return response;
  };

  const signIn = async (path: string, body: unknown) => {
    // A new session: whatever token was cached belonged to the old one.
    csrf = undefined;
    // Token mode: under the lock, so no refresh in flight can overwrite the new cookie.
    const response = await (tokenMode
      ? withLock(() => call('POST', path, body, false))
      : call('POST', path, body, false));
    const reply = (await response.json()) as UserResponse | TokenResponse;
    if (tokenMode && 'accessToken' in reply) {
      const ms = lifetime(response, reply);
      install(reply.accessToken, ms, ms);
      post({ type: 'token', token: reply.accessToken, user: reply.user, life: ms, left: ms });
    } else {
      post({ type: 'in' });
    }
    setUser(reply.user, true);
    return reply.user;
  };

  async function session(): Promise<SessionResponse | null> {
    if (tokenMode && !(await bearer(false))) {
      // No token yet: the first refresh finds out whether anyone is signed in.
      if (user !== undefined || !(await refresh())) return null;
    }
    const response = await send(`${baseUrl}/auth/session`, { method: 'GET' }, tokenMode);
    if (!response.ok) {
      const error = await LatchkeyError.fromResponse(response);
      if (response.status === 401 && SIGNED_OUT.has(error.code)) {
        signedOut();
        return null;
      }
      throw error;
    }
    const body = (await response.json()) as SessionResponse;
    if (!tokenMode) csrf = Promise.resolve(body.csrfToken);
    sessionId = body.session.id;
    setUser(body.user);
    return body;
  }

  const start = () =>
    (starting ??= (
      tokenMode
        ? access && now() < expires
          ? Promise.resolve(user ?? null)
          : refresh().then(() => user ?? null)
        : session().then((s) => s?.user ?? null)
    ).finally(() => {
      starting = undefined;
    }));

  return {
    mode,
    start,
    register: (input) => signIn('/auth/register', input),
    login: (input) => signIn('/auth/login', input),
    async logout() {
      // Token mode: under the lock, so no tab is rotating the cookie this revokes.
      await (tokenMode
        ? withLock(() => call('POST', '/auth/logout', undefined, true, true))
        : call('POST', '/auth/logout'));
      signedOut(true);
    },
    session,
    async sessions() {
      return (await (await call('GET', '/auth/sessions')).json()) as SessionListResponse;
    },
    async revokeSession(id) {
      await call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
      if (id === sessionId) signedOut(true);
    },
    async revokeOtherSessions() {
      await call('DELETE', '/auth/sessions');
    },
    async changePassword(input) {
      if (tokenMode) {
        // The server re-issues this session as a new refresh family (new cookie): get its
        // access token before any tab can refresh with the cookie the change revoked.
        await withLock(async () => {
          await call('POST', '/auth/password', input, true, true);
          await rotate();
        });
        return;
      }
      await call('POST', '/auth/password', input);
      // The session was re-issued under a new id, so its CSRF token changed too.
      csrf = undefined;
      sessionId = undefined;
    },
    fetch: (input, init = {}) => send(input, init, true),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    getUser: () => user,
    close() {
      clearTimeout(timer);
      channel?.close();
      target?.removeEventListener('visibilitychange', wake);
      if (tokenMode) {
        for (const type of ['pageshow', 'online', 'focus']) {
          globalThis.removeEventListener?.(type, wake);
        }
      }
    },
  };
}
