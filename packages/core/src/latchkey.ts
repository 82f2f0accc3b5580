import { createAuthContext } from './auth/context.js';
import { resolveConfig, type LatchkeyConfig, type LatchkeyOptions } from './config.js';
import { fail, LatchkeyError } from './errors.js';
import { securityHeaders, withSecurityHeaders } from './headers.js';
import { createRequestAuthenticator } from './http/authenticate.js';
import { createCookieWriter } from './http/cookie-writer.js';
import { createRequestReader } from './http/request.js';
import { errorResponse, JSON_CONTENT_TYPE, jsonResponse } from './http/respond.js';
import { createAuthRoutes } from './http/routes.js';
import type { AuthResult, ConnectionInfo } from './http/types.js';
import type { SecurityEvent } from './log.js';
import { guardStore } from './stores/guard.js';

export type { AuthResult, ConnectionInfo } from './http/types.js';
export { toPublicUser } from './auth/public.js';

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

/**
 * Creates a Latchkey instance. Options are validated once, here, into a frozen
 * config (throws `ConfigError` with one line naming the bad key); nothing later
 * reads the environment.
 */
export function createLatchkey(options: LatchkeyOptions): Latchkey {
  const config = resolveConfig(options);
  const log = (event: SecurityEvent) =>
    config.logger({ ...event, time: new Date(config.now()).toISOString() });
  const weakened = Object.entries(config.unsafe)
    .filter(([key, value]) => (key === 'sameSite' ? value !== 'Strict' : value === true))
    .map(([key, value]) => `${key}=${String(value)}`);
  if (weakened.length > 0) log({ event: 'unsafe_options', options: weakened });

  const ctx = createAuthContext(config, guardStore(config.store, config.logger, config.now), log);
  const reader = createRequestReader(config, log);
  const cookies = createCookieWriter(config);
  const { authenticateRequest, authenticate } = createRequestAuthenticator(ctx, reader, cookies, {
    csrfToken: !config.unsafe.disableCsrfToken,
  });
  const routes = createAuthRoutes({ config, ctx, reader, cookies, authenticateRequest });

  const headers = securityHeaders(config);
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
    sweepExpired: () => ctx.store.sessions.deleteExpiredSessions(config.now()),
    ping: () => ctx.store.ping(),
  });
}
