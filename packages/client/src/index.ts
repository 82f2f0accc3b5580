/**
 * The Latchkey browser client: sign-in calls, the session, and a `fetch` wrapper for the
 * app's own API that attaches the anti-forgery header. Browser-only, no dependencies.
 *
 * In session mode (the only mode so far) the credential is an HttpOnly cookie this code
 * never sees; the client keeps just the session-bound CSRF token, in memory. Credentials
 * are attached in one place (`send` below) so token mode can add a bearer token there
 * without changing this API.
 */
import type {
  ErrorCode as WireErrorCode,
  PublicUser,
  SessionListResponse,
  SessionResponse,
  UserResponse,
} from '../../core/src/wire.js';
import { CSRF_HEADER } from '../../core/src/wire.js';

export type {
  PublicUser,
  SessionInfo,
  SessionListItem,
  SessionListResponse,
  SessionResponse,
} from '../../core/src/wire.js';
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

export interface AuthClientOptions {
  /** Origin (and path prefix) of the server. @default '' (same origin) */
  baseUrl?: string;
  /** The fetch implementation, injectable for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface AuthClient {
  /** `POST /auth/register`; signs the new user in. */
  register(input: { email: string; password: string; name?: string }): Promise<PublicUser>;
  /** `POST /auth/login`. */
  login(input: { email: string; password: string }): Promise<PublicUser>;
  /** `POST /auth/logout`: revokes the session server-side and forgets it here. */
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
   * `fetch` for the app's own API: unsafe methods (POST, PUT, PATCH, DELETE) carry the
   * `X-CSRF-Token` header, and one `403 csrf_failed` is retried with a fresh token.
   * Answers are returned as they are (check `response.ok`; `LatchkeyError.fromResponse`
   * reads an error body); a `401` that ends the session also notifies `onChange`.
   * A string path starting with `/` is prefixed with `baseUrl`.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * Calls `listener` whenever the signed-in user changes; returns the unsubscribe.
   * Safe to pass around unbound (e.g. to React's `useSyncExternalStore`).
   */
  onChange: (listener: (user: PublicUser | null) => void) => () => void;
  /** The last known user: `undefined` until the first answer says either way. Unbound-safe. */
  getUser: () => PublicUser | null | undefined;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SIGNED_OUT = new Set<string>(['unauthenticated', 'session_expired', 'token_reused']);

/**
 * Creates a client for one Latchkey server. Every request is sent with
 * `credentials: 'same-origin'`; failures throw `LatchkeyError`.
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const listeners = new Set<(user: PublicUser | null) => void>();
  let user: PublicUser | null | undefined;
  let sessionId: string | undefined;
  // The CSRF token, or the request that is fetching it (shared by concurrent callers).
  let csrf: Promise<string | undefined> | undefined;

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

  const signedOut = () => {
    csrf = undefined;
    sessionId = undefined;
    setUser(null);
  };

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

  const csrfToken = () =>
    (csrf ??= session().then(
      (s) => s?.csrfToken,
      (error: unknown) => {
        csrf = undefined;
        throw error;
      },
    ));

  /** One request with credentials attached; retries a stale CSRF token once. */
  const send = async (input: RequestInfo | URL, init: RequestInit, withCsrf: boolean) => {
    if (typeof input === 'string' && input.startsWith('/')) input = baseUrl + input;
    const request = input instanceof Request ? input : undefined;
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const guarded = withCsrf && UNSAFE.has(method);
    const replay = guarded && request ? request.clone() : input;
    const attempt = async (target: RequestInfo | URL) => {
      const headers = new Headers(init.headers ?? request?.headers);
      const token = guarded ? await csrfToken() : undefined;
      if (token) headers.set(CSRF_HEADER, token);
      return raw(target, { ...init, headers });
    };
    let response = await attempt(input);
    if (
      guarded &&
      response.status === 403 &&
      !(init.body instanceof ReadableStream) &&
      (await errorCode(response)) === 'csrf_failed'
    ) {
      csrf = undefined;
      response = await attempt(replay);
    }
    if (response.status === 401 && SIGNED_OUT.has((await errorCode(response)) ?? '')) signedOut();
    return response;
  };

  /** An auth route: JSON in, JSON (or nothing) out, errors thrown. */
  const call = async (method: string, path: string, body?: unknown, withCsrf = true) => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await send(baseUrl + path, init, withCsrf);
    if (!response.ok) throw await LatchkeyError.fromResponse(response);
    return response;
  };

  const signIn = async (path: string, body: unknown) => {
    // A new session: whatever token was cached belonged to the old one.
    csrf = undefined;
    const { user: signedIn } = (await (
      await call('POST', path, body, false)
    ).json()) as UserResponse;
    setUser(signedIn, true);
    return signedIn;
  };

  async function session(): Promise<SessionResponse | null> {
    const response = await raw(`${baseUrl}/auth/session`, { method: 'GET' });
    if (!response.ok) {
      const error = await LatchkeyError.fromResponse(response);
      if (response.status === 401 && SIGNED_OUT.has(error.code)) {
        signedOut();
        return null;
      }
      throw error;
    }
    const body = (await response.json()) as SessionResponse;
    csrf = Promise.resolve(body.csrfToken);
    sessionId = body.session.id;
    setUser(body.user);
    return body;
  }

  return {
    register: (input) => signIn('/auth/register', input),
    login: (input) => signIn('/auth/login', input),
    async logout() {
      await call('POST', '/auth/logout');
      signedOut();
    },
    session,
    async sessions() {
      return (await (await call('GET', '/auth/sessions')).json()) as SessionListResponse;
    },
    async revokeSession(id) {
      await call('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
      if (id === sessionId) signedOut();
    },
    async revokeOtherSessions() {
      await call('DELETE', '/auth/sessions');
    },
    async changePassword(input) {
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
  };
}
