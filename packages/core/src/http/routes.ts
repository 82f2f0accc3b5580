import { changePassword } from '../auth/change-password.js';
import type { z } from 'zod';
import type { AuthContext, Caller, Result } from '../auth/context.js';
import { login } from '../auth/login.js';
import { logout } from '../auth/logout.js';
import { toPublicUser, toSessionInfo, toSessionListItem } from '../auth/public.js';
import { refresh } from '../auth/refresh.js';
import { register } from '../auth/register.js';
import {
  currentSession,
  listSessions,
  revokeOtherSessions,
  revokeSession,
} from '../auth/sessions.js';
import type { SignIn } from '../auth/sign-in.js';
import { requireRecentAuth } from '../auth/step-up.js';
import type { LatchkeyConfig } from '../config.js';
import { fail } from '../errors.js';
import type { UserRecord } from '../stores/types.js';
import {
  DEVICE_COOKIE,
  type MfaRequiredResponse,
  type SessionListResponse,
  type SessionResponse,
} from '../wire.js';
import type { RequestAuth } from './authenticate.js';
import { readJsonBody } from './body.js';
import type { CookieWriter } from './cookie-writer.js';
import type { RequestReader } from './request.js';
import { pathnameOf } from './path.js';
import { errorReply, reply, type Reply } from './reply.js';
import { changePasswordBody, loginBody, parseBody, registerBody } from './schemas.js';
import type { AuthRequest, ConnectionInfo, RequestHead } from './types.js';

export interface RouteDeps {
  config: LatchkeyConfig;
  ctx: AuthContext;
  reader: RequestReader;
  cookies: CookieWriter;
  authenticateRequest: (request: RequestHead, connection?: ConnectionInfo) => Promise<RequestAuth>;
  /**
   * Finishes what the first step of a two-step sign-in left (`carry`) once the second
   * factor is given: the OpenID feature's, when it is on.
   */
  completePendingSignIn?: (carry: string, userId: string, signIn: SignIn) => Promise<void>;
}

export type Handler = (
  request: AuthRequest,
  connection: ConnectionInfo | undefined,
  params: string[],
) => Promise<Reply>;

/** One row of the router's table. */
export interface Route {
  method: string;
  /** Matched against the path below the base path (e.g. `/login`); groups become params. */
  pattern: RegExp;
  handler: Handler;
}

/** What every route module gets: the dependencies and the shared request steps. */
export interface RouteKit extends RouteDeps {
  /** The client's address and agent, and the credential cookie it presented. */
  caller(request: AuthRequest, connection: ConnectionInfo | undefined): Caller;
  /** Throws `403 csrf_failed` for a cross-origin unsafe request. */
  requireSameOrigin(request: AuthRequest, connection: ConnectionInfo | undefined): void;
  /** The authenticated caller, or throws its 401 / 403 / 503. */
  requireAuth(
    request: AuthRequest,
    connection: ConnectionInfo | undefined,
  ): Promise<{ ok: true } & RequestAuth>;
  /** API.md's answer to a sign-in: `{ user }` (token mode: and the access token), and the cookies. */
  signedIn(status: number, user: UserRecord, signIn: SignIn): Reply;
  /** The request's JSON body, parsed against `schema` (400 / 413 / 415 otherwise). */
  body<T>(request: AuthRequest, schema: z.ZodType<T>): Promise<T>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The success value, or the expected failure thrown for the router to answer. */
export function unwrap<T>(result: Result<T>): { ok: true } & T {
  if (!result.ok) throw result.error;
  return result;
}

/**
 * The `/auth` router: a method + path table, no framework. Each handler parses the
 * request, calls one operation (../auth/) and writes its result as HTTP; nothing
 * here touches the store.
 */
export function createAuthRoutes(
  deps: RouteDeps,
  /** Feature route modules (second factor, recovery, …): each adds rows to the table. */
  modules: readonly ((kit: RouteKit) => Route[])[] = [],
) {
  const { config, ctx, reader, cookies, authenticateRequest } = deps;
  const logoutHeaders: Record<string, string> = {};
  if (config.clearSiteData) logoutHeaders['Clear-Site-Data'] = config.clearSiteData;

  const caller = (request: AuthRequest, connection: ConnectionInfo | undefined) => ({
    client: reader.client(request, connection),
    presented: reader.credential(request, cookies.credentialName, connection),
  });

  const requireSameOrigin = (request: AuthRequest, connection: ConnectionInfo | undefined) => {
    const refused = reader.crossOriginRefusal(request, connection);
    if (refused) throw refused;
  };

  const requireAuth = async (request: AuthRequest, connection: ConnectionInfo | undefined) =>
    unwrap(await authenticateRequest(request, connection));

  /** API.md's answer to a sign-in: `{ user }` (token mode: and the access token), and the cookies. */
  const signedIn = (status: number, user: UserRecord, signIn: SignIn) =>
    reply(
      status,
      {
        user: toPublicUser(user),
        ...(signIn.access
          ? { accessToken: signIn.access.token, accessTokenExpiresAt: iso(signIn.access.expiresAt) }
          : {}),
      },
      [
        cookies.credential(signIn.credential, config.absoluteTimeoutMs),
        cookies.device(signIn.device),
      ],
    );

  const registerRoute: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(registerBody, await readJsonBody(request, config.bodyLimit));
    const input = { email: body.email, password: body.password, name: body.name ?? null };
    const { user, signIn } = unwrap(await register(ctx, input, caller(request, connection)));
    return signedIn(201, user, signIn);
  };

  const loginRoute: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(loginBody, await readJsonBody(request, config.bodyLimit));
    const device = reader.credential(request, DEVICE_COOKIE, connection);
    const who = { ...caller(request, connection), device };
    const { user, signIn, pending } = unwrap(await login(ctx, body, who));
    if (pending) {
      // Password right, second factor awaited: no session, only the pending cookie.
      const answer: MfaRequiredResponse = { mfaRequired: true, methods: ['totp', 'recovery_code'] };
      return reply(200, answer, [
        cookies.pendingSignIn(pending.token, pending.expiresAt - ctx.now()),
      ]);
    }
    return signedIn(200, user, signIn);
  };

  const logoutRoute: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    // A duplicated credential cookie is refused here like everywhere (thrown by
    // caller()): clearing the genuine cookie because a sibling planted one is the attack.
    const { presented } = caller(request, connection);
    const auth = await authenticateRequest(request, connection);
    // Not signed in (or already expired) is fine; a forged request or a store that
    // cannot revoke is not.
    if (
      !auth.ok &&
      (auth.error.code === 'csrf_failed' || auth.error.code === 'store_unavailable')
    ) {
      throw auth.error;
    }
    await logout(ctx, { presented, principal: auth.ok ? auth : null });
    // Signed out either way: clear the cookie and the origin's storage (not
    // "cookies", which reaches sibling sites, nor "cache", which stalls Chromium).
    return reply(204, undefined, [cookies.clearedCredential], logoutHeaders);
  };

  const sessionRoute: Handler = async (request, connection) => {
    const auth = await requireAuth(request, connection);
    const { user, session, csrfToken } = unwrap(await currentSession(ctx, auth));
    const body: SessionResponse = {
      user: toPublicUser(user),
      session: toSessionInfo(session),
      ...(csrfToken === null ? {} : { csrfToken }),
    };
    return reply(200, body, auth.setCookies);
  };

  const listRoute: Handler = async (request, connection) => {
    const auth = await requireAuth(request, connection);
    const list = await listSessions(ctx, auth);
    const body: SessionListResponse = {
      sessions: list.map((s) => toSessionListItem(s, auth.sessionId)),
    };
    return reply(200, body, auth.setCookies);
  };

  const revokeOneRoute: Handler = async (request, connection, [id]) => {
    const auth = await requireAuth(request, connection);
    const { current } = unwrap(await revokeSession(ctx, auth, id ?? ''));
    return reply(204, undefined, current ? [cookies.clearedCredential] : auth.setCookies);
  };

  const revokeOthersRoute: Handler = async (request, connection) => {
    const auth = await requireAuth(request, connection);
    unwrap(await requireRecentAuth(ctx, auth));
    await revokeOtherSessions(ctx, auth);
    return reply(204, undefined, auth.setCookies);
  };

  const passwordRoute: Handler = async (request, connection) => {
    const auth = await requireAuth(request, connection);
    const body = parseBody(changePasswordBody, await readJsonBody(request, config.bodyLimit));
    const client = reader.client(request, connection);
    const { credential } = unwrap(await changePassword(ctx, auth, body, client));
    return reply(204, undefined, [cookies.credential(credential, config.absoluteTimeoutMs)]);
  };

  const refreshRoute: Handler = async (request, connection) => {
    if (!ctx.tokens) throw fail('not_found');
    requireSameOrigin(request, connection);
    const { presented, client } = caller(request, connection);
    const result = await refresh(ctx, presented, client);
    if (!result.ok) {
      return errorReply(result.error, result.clearCredential ? [cookies.clearedCredential] : []);
    }
    const { user, family, credential, access } = result;
    return reply(
      200,
      {
        user: toPublicUser(user),
        accessToken: access.token,
        accessTokenExpiresAt: iso(access.expiresAt),
      },
      [cookies.credential(credential, family.expiresAt - ctx.now())],
    );
  };

  const jwksRoute: Handler = () =>
    Promise.resolve(
      config.token ? reply(200, config.token.keys.jwks) : errorReply(fail('not_found')),
    );

  const kit: RouteKit = {
    ...deps,
    caller,
    requireSameOrigin,
    requireAuth,
    signedIn,
    body: async (request, schema) =>
      parseBody(schema, await readJsonBody(request, config.bodyLimit)),
  };

  const table: Route[] = [
    { method: 'POST', pattern: /^\/register$/, handler: registerRoute },
    { method: 'POST', pattern: /^\/login$/, handler: loginRoute },
    { method: 'POST', pattern: /^\/logout$/, handler: logoutRoute },
    { method: 'GET', pattern: /^\/session$/, handler: sessionRoute },
    { method: 'GET', pattern: /^\/sessions$/, handler: listRoute },
    { method: 'DELETE', pattern: /^\/sessions$/, handler: revokeOthersRoute },
    { method: 'DELETE', pattern: /^\/sessions\/([A-Za-z0-9_-]{1,64})$/, handler: revokeOneRoute },
    { method: 'POST', pattern: /^\/password$/, handler: passwordRoute },
    { method: 'POST', pattern: /^\/refresh$/, handler: refreshRoute },
    { method: 'GET', pattern: /^\/jwks\.json$/, handler: jwksRoute },
    ...modules.flatMap((module) => module(kit)),
  ];

  return async (request: AuthRequest, connection?: ConnectionInfo): Promise<Reply> => {
    const pathname = pathnameOf(request.url);
    if (pathname !== config.basePath && !pathname.startsWith(`${config.basePath}/`)) {
      return errorReply(fail('not_found'));
    }
    const path = pathname.slice(config.basePath.length);
    for (const route of table) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(path);
      if (match) return route.handler(request, connection, match.slice(1));
    }
    return errorReply(fail('not_found'));
  };
}
