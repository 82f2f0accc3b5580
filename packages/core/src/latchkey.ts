import { resolveConfig, type LatchkeyConfig, type LatchkeyOptions } from './config.js';
import { readCredentialCookie, serializeCookie } from './cookies.js';
import { createSigner } from './crypto.js';
import { fail, LatchkeyError } from './errors.js';
import { securityHeaders, withSecurityHeaders } from './headers.js';
import { errorResponse, JSON_CONTENT_TYPE, jsonResponse } from './http/respond.js';
import { createAuthRoutes } from './http/routes.js';
import type { SecurityEvent } from './log.js';
import { crossOriginRefusal, isUnsafeMethod } from './origin.js';
import { createSessionStrategy, type ClientInfo } from './session.js';
import { guardStore } from './stores/guard.js';
import type { SessionRecord, UserRecord } from './stores/types.js';
import { createAccessTokens } from './token/access.js';
import { createRefreshStrategy } from './token/refresh.js';
import { CSRF_HEADER, REFRESH_COOKIE, SESSION_COOKIE, type PublicUser } from './wire.js';

/** What an adapter knows about the connection that the Request does not carry. */
export interface ConnectionInfo {
  /** The socket's remote address. */
  remoteAddress?: string | null;
}

export type AuthResult =
  | {
      ok: true;
      userId: string;
      /** The session (session mode) or refresh family (token mode) id. */
      sessionId: string;
      /** Session mode: loaded with the session. Token mode: null (the token is verified without the store). */
      user: PublicUser | null;
      session: SessionRecord | null;
      /** Set-Cookie headers the response must carry (a cookie re-signed under a new key). */
      setCookies: string[];
    }
  | { ok: false; error: LatchkeyError };

export interface Latchkey {
  readonly config: LatchkeyConfig;
  /** The Web-standard handler for the auth routes (under `basePath`); other paths get `404`. */
  handle(request: Request, connection?: ConnectionInfo): Promise<Response>;
  /**
   * Authenticates a request to the app's own routes. Session mode: the cross-origin
   * check and the session-bound anti-forgery token for unsafe methods, then the
   * session cookie. Token mode: the cross-origin check, then the bearer access token.
   * Expected failures are values; a store fault is `store_unavailable` (fail closed).
   */
  authenticate(request: Request, connection?: ConnectionInfo): Promise<AuthResult>;
  /** The JSON error response for an error, with the security headers. */
  errorResponse(error: LatchkeyError): Response;
  /**
   * Adds the security headers to any response the app sends. Pass `{ private: true }`
   * for an answer to an authenticated request: it gets `Cache-Control: no-store`
   * unless it set its own.
   */
  secure(response: Response, options?: { private?: boolean }): Response;
  /**
   * A JSON response with the security headers, built in one step: the cheapest way
   * to answer from a plain `(Request) => Response` handler. Pass the `setCookies` of
   * an `AuthResult` so a re-signed session cookie reaches the browser. It says
   * `Cache-Control: no-store` (answers to authenticated requests must not be stored)
   * unless `cacheControl` says otherwise.
   */
  json(
    body: unknown,
    init?: { status?: number; setCookies?: readonly string[]; cacheControl?: string },
  ): Response;
  /** Deletes expired sessions; run it now and then. Returns how many. */
  sweepExpired(): Promise<number>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    createdAt: new Date(user.createdAt).toISOString(),
  };
}

/**
 * Creates a Latchkey instance. Options are validated once, here, into a frozen
 * config (throws `ConfigError` with one line naming the bad key); nothing later
 * reads the environment.
 */
export function createLatchkey(options: LatchkeyOptions): Latchkey {
  const config = resolveConfig(options);
  const weakened = Object.entries(config.unsafe).filter(([key, value]) =>
    key === 'sameSite' ? value !== 'Strict' : value === true,
  );
  if (weakened.length > 0) {
    console.warn(
      `latchkey: UNSAFE options in use, defences are off: ${weakened.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`,
    );
  }
  const log = (event: SecurityEvent) =>
    config.logger?.({ ...event, time: new Date(config.now()).toISOString() });
  const store = guardStore(config.store, config.logger);
  const signer = createSigner(config.secrets);
  const sessions = createSessionStrategy(
    config,
    store,
    signer,
    config.mode === 'token' ? 'refresh' : 'session',
  );
  const tokens = config.token
    ? {
        access: createAccessTokens({
          keys: config.token.keys,
          issuer: config.token.issuer,
          audience: config.token.audience,
          ttlMs: config.token.accessTtlMs,
          now: config.now,
        }),
        refresh: createRefreshStrategy(config, store, signer, config.token.refreshRetryWindowMs),
      }
    : null;
  const headers = securityHeaders(config);

  const clientInfo = (request: Request, connection?: ConnectionInfo): ClientInfo => {
    let ip = connection?.remoteAddress ?? null;
    if (config.trustedProxies > 0) {
      const hops = (request.headers.get('x-forwarded-for') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      ip = hops[hops.length - config.trustedProxies] ?? ip;
    }
    return { userAgent: request.headers.get('user-agent'), ip };
  };

  /**
   * The cookie that carries the credential: the session, or (token mode) the refresh
   * token. Both `__Host-Http-`: host-only and Path=/, so a sibling subdomain can
   * neither overwrite it nor shadow it with a longer Path.
   */
  const credentialCookieName = config.mode === 'token' ? REFRESH_COOKIE : SESSION_COOKIE;
  const credentialCookie = (value: string, maxAgeMs: number) =>
    serializeCookie(credentialCookieName, value, {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: config.unsafe.sameSite,
      maxAge: value === '' ? 0 : Math.ceil(maxAgeMs / 1000),
    });

  /**
   * A credential cookie of the request. Sent twice, it is a conflict: a sibling
   * subdomain planted one, nothing says which is genuine, so the request is refused
   * (and the genuine cookie is left alone: clearing it is what the attacker wants).
   */
  const presentedCookie = (
    request: Request,
    name: string,
    connection?: ConnectionInfo,
  ): string | null => {
    const read = readCredentialCookie(request.headers.get('cookie'), name);
    if (!read.conflict) return read.value;
    log({ event: 'cookie_conflict', cookie: name, ip: clientInfo(request, connection).ip });
    throw fail('unauthenticated');
  };

  const refuseCrossOrigin = (
    request: Request,
    connection?: ConnectionInfo,
  ): LatchkeyError | null => {
    const refusal = crossOriginRefusal(request, config);
    if (!refusal) return null;
    log({ event: 'csrf_refused', reason: refusal, ip: clientInfo(request, connection).ip });
    return fail('csrf_failed');
  };

  const authenticateSession = async (
    request: Request,
    connection?: ConnectionInfo,
  ): Promise<AuthResult> => {
    const result = await sessions.validate(presentedCookie(request, SESSION_COOKIE, connection));
    if (!result.ok) {
      if (result.reason === 'expired' && result.session) {
        log({
          event: 'session_expired',
          userId: result.session.userId,
          sessionId: result.session.id,
        });
      }
      return {
        ok: false,
        error: fail(result.reason === 'expired' ? 'session_expired' : 'unauthenticated'),
      };
    }
    if (isUnsafeMethod(request.method) && !config.unsafe.disableCsrfToken) {
      const token = request.headers.get(CSRF_HEADER);
      if (!(await sessions.verifyCsrfToken(result.session, token))) {
        log({ event: 'csrf_refused', reason: 'token', ip: clientInfo(request, connection).ip });
        return { ok: false, error: fail('csrf_failed') };
      }
    }
    const setCookies = result.renewedCookie
      ? [credentialCookie(result.renewedCookie, result.session.expiresAt - config.now())]
      : [];
    const record = result.user;
    let user: PublicUser | undefined;
    return {
      ok: true,
      userId: record.id,
      sessionId: result.session.id,
      // Built on first read: most routes need only the id, and this runs per request.
      get user() {
        return (user ??= toPublicUser(record));
      },
      session: result.session,
      setCookies,
    };
  };

  const authenticateBearer = async (request: Request): Promise<AuthResult> => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(request.headers.get('authorization') ?? '');
    const claims = match && tokens ? await tokens.access.verify(match[1] as string) : null;
    if (!claims) return { ok: false, error: fail('unauthenticated') };
    if (!config.token?.statelessAccess) {
      // A token dies with its session: after sign-out, revocation or a password change
      // its family is gone from the store (and from every near-cache within the
      // invalidation bound), so the token is refused long before its exp.
      const family = await store.sessions.getSession(claims.sid);
      if (!family || family.userId !== claims.sub || config.now() >= family.expiresAt) {
        return { ok: false, error: fail('unauthenticated') };
      }
    }
    return {
      ok: true,
      userId: claims.sub,
      sessionId: claims.sid,
      user: null,
      session: null,
      setCookies: [],
    };
  };

  const authenticate = async (
    request: Request,
    connection?: ConnectionInfo,
  ): Promise<AuthResult> => {
    try {
      const refused = refuseCrossOrigin(request, connection);
      if (refused) return { ok: false, error: refused };
      return tokens
        ? await authenticateBearer(request)
        : await authenticateSession(request, connection);
    } catch (error) {
      if (error instanceof LatchkeyError) return { ok: false, error };
      throw error;
    }
  };

  const routes = createAuthRoutes({
    config,
    store,
    signer,
    sessions,
    tokens,
    log,
    authenticate,
    refuseCrossOrigin,
    clientInfo,
    credentialCookie,
    presentedCookie,
  });

  const secure: Latchkey['secure'] = (response, options) => {
    const secured = withSecurityHeaders(response, headers);
    if (options?.private && !secured.headers.has('Cache-Control')) {
      secured.headers.set('Cache-Control', 'no-store');
    }
    return secured;
  };
  const jsonHeaders = Object.freeze({
    ...headers,
    'Content-Type': JSON_CONTENT_TYPE,
    'Cache-Control': 'no-store',
  });
  const json: Latchkey['json'] = (body, init = {}) =>
    jsonResponse(
      init.status ?? 200,
      body,
      init.cacheControl === undefined
        ? jsonHeaders
        : { ...jsonHeaders, 'Cache-Control': init.cacheControl },
      init.setCookies,
    );

  return Object.freeze({
    config,
    async handle(request: Request, connection?: ConnectionInfo) {
      let response: Response;
      try {
        response = await routes(request, connection);
      } catch (error) {
        response = errorResponse(
          error instanceof LatchkeyError ? error : fail('internal_error', { cause: error }),
        );
      }
      response = secure(response);
      response.headers.set('Cache-Control', 'no-store');
      return response;
    },
    authenticate,
    errorResponse: (error: LatchkeyError) => secure(errorResponse(error)),
    secure,
    json,
    sweepExpired: () => store.sessions.deleteExpiredSessions(config.now()),
    ping: () => store.ping(),
  });
}
