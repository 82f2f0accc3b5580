import { adminOperations, type LatchkeyAdmin } from './auth/admin.js';
import { createAuthContext } from './auth/context.js';
import { resolveConfig, type LatchkeyConfig, type LatchkeyOptions } from './config.js';
import { fail, LatchkeyError } from './errors.js';
import { securityHeaders, withSecurityHeaders } from './headers.js';
import { createRequestAuthenticator } from './http/authenticate.js';
import { createCookieWriter } from './http/cookie-writer.js';
import { createRequestReader } from './http/request.js';
import {
  errorReply,
  finishReply,
  replyHeaders,
  JSON_CONTENT_TYPE,
  jsonResponse,
  replyResponse,
  type AuthReply,
} from './http/reply.js';
import { mfaRoutes } from './http/mfa-routes.js';
import { oidcRoutes } from './http/oidc-routes.js';
import { passkeyRoutes } from './http/passkey-routes.js';
import { recoveryRoutes } from './http/recovery-routes.js';
import { createAuthRoutes } from './http/routes.js';
import type { AuthRequest, AuthResult, ConnectionInfo, RequestHead } from './http/types.js';
import type { SecurityEvent } from './log.js';
import type { HashingStats } from './password.js';
import { guardStore } from './stores/guard.js';
import type { SignIn } from './auth/sign-in.js';
import { createOidcFeature } from './oidc/feature.js';
import { createRelay } from './oidc/relay.js';

export type { AuthRequest, AuthResult, ConnectionInfo, RequestHead } from './http/types.js';
export type { AuthReply } from './http/reply.js';
export { toPublicUser } from './auth/public.js';
export type { LatchkeyAdmin, OperatorSession } from './auth/admin.js';

export interface Latchkey {
  readonly config: LatchkeyConfig;
  /** The Web-standard handler for the auth routes (under `basePath`); other paths get `404`. */
  handle(request: Request, connection?: ConnectionInfo): Promise<Response>;
  /**
   * The same routes for adapters that write the answer themselves (node:http,
   * Express, Fastify): the reply as a status, one plain header record (security
   * headers and `Cache-Control: no-store` included), the Set-Cookie lines and the
   * JSON text. Never rejects: a failure is its error reply.
   */
  answer(request: AuthRequest, connection?: ConnectionInfo): Promise<AuthReply>;
  /**
   * Authenticates a request to the app's own routes. Session mode: the cross-origin
   * check and the session-bound anti-forgery token for unsafe methods, then the
   * session cookie. Token mode: the cross-origin check, then the bearer access token.
   * Expected failures are values; a store fault is `store_unavailable` (fail closed).
   * Takes a Web `Request` or any `RequestHead` (method + `headers.get`).
   */
  authenticate(request: RequestHead, connection?: ConnectionInfo): Promise<AuthResult>;
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
  /** Deletes expired sessions and feature records (one-time tokens…); run it now and then. Returns how many. */
  sweepExpired(): Promise<number>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  /**
   * The operator's operations, by email: find an account, list or revoke its sessions,
   * delete it (the `latchkey` CLI runs these). Logged with `by: 'operator'`; a
   * revocation reaches every server's near-cache at once.
   */
  readonly admin: LatchkeyAdmin;
  /** The password-hashing queue, read-only (depth, running, waits, refusals), for metrics. */
  readonly hashing: HashingStats;
  /**
   * Backend for frontend (`oidc.upstream` set): `relay(request)` forwards a signed-in
   * request under the relay path to the upstream API with the provider's access token,
   * refreshed when due. Any adapter can call it with a Web `Request`. Null when off.
   */
  readonly bff: {
    relay(request: Request, connection?: ConnectionInfo): Promise<Response>;
  } | null;
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
  const oidcFeature = config.oidc ? createOidcFeature(ctx, config.oidc, config.secrets) : null;
  const routes = createAuthRoutes(
    {
      config,
      ctx,
      reader,
      cookies,
      authenticateRequest,
      ...(oidcFeature
        ? {
            completePendingSignIn: (carry: string, userId: string, signIn: SignIn) =>
              oidcFeature.completePendingSignIn(carry, userId, signIn),
          }
        : {}),
    },
    [mfaRoutes, passkeyRoutes, recoveryRoutes, ...(oidcFeature ? [oidcRoutes(oidcFeature)] : [])],
  );

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

  // Every auth answer: the security headers, and never stored by any cache.
  const fixedReplyHeaders = replyHeaders({ ...headers, 'Cache-Control': 'no-store' });
  const answer = async (request: AuthRequest, connection?: ConnectionInfo) => {
    try {
      return finishReply(await routes(request, connection), fixedReplyHeaders);
    } catch (error) {
      const failure =
        error instanceof LatchkeyError ? error : fail('internal_error', { cause: error });
      return finishReply(errorReply(failure), fixedReplyHeaders);
    }
  };

  return Object.freeze({
    config,
    handle: async (request: Request, connection?: ConnectionInfo) =>
      replyResponse(await answer(request, connection)),
    answer,
    authenticate,
    errorResponse: (error: LatchkeyError) =>
      replyResponse(finishReply(errorReply(error), fixedReplyHeaders)),
    secure,
    json,
    async sweepExpired() {
      const now = config.now();
      const sessions = await ctx.store.sessions.deleteExpiredSessions(now);
      return sessions + (await ctx.store.records.deleteExpiredRecords(now));
    },
    ping: () => ctx.store.ping(),
    admin: adminOperations(ctx),
    hashing: ctx.passwords.stats,
    bff: oidcFeature?.config.upstream
      ? {
          relay: createRelay({
            upstream: oidcFeature.config.upstream,
            vault: oidcFeature.vault,
            authenticate: authenticateRequest,
            errorResponse: (error, setCookies = []) =>
              replyResponse(finishReply(errorReply(error, setCookies), fixedReplyHeaders)),
            secure: (response) => secure(response, { private: true }),
            clearedCredential: cookies.clearedCredential,
          }),
        }
      : null,
  });
}
