import type { LatchkeyConfig } from '../config.js';
import { readCookie } from '../cookies.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { AuthResult, ConnectionInfo } from '../latchkey.js';
import { REFRESH_COOKIE, SESSION_COOKIE, toPublicUser } from '../latchkey.js';
import type { SecurityEvent } from '../log.js';
import { checkPasswordPolicy, createPasswordHasher } from '../password.js';
import type { ClientInfo, SessionStrategy } from '../session.js';
import type { LatchkeyStore, Limiter, SessionRecord } from '../stores/types.js';
import type { AccessTokens } from '../token/access.js';
import type { RefreshStrategy } from '../token/refresh.js';
import type { SessionListResponse, SessionResponse, TokenResponse, UserResponse } from '../wire.js';
import { readJsonBody } from './body.js';
import { errorResponse, json, noContent } from './respond.js';
import { changePasswordBody, loginBody, parseBody, registerBody } from './schemas.js';

interface RouteDeps {
  config: LatchkeyConfig;
  store: LatchkeyStore;
  /** Session mode: sessions; token mode: refresh families (the same records). */
  sessions: SessionStrategy;
  tokens: { access: AccessTokens; refresh: RefreshStrategy } | null;
  log: (event: SecurityEvent) => void;
  authenticate: (request: Request, connection?: ConnectionInfo) => Promise<AuthResult>;
  refuseCrossOrigin: (request: Request, connection?: ConnectionInfo) => LatchkeyError | null;
  clientInfo: (request: Request, connection?: ConnectionInfo) => ClientInfo;
  /** The session cookie (session mode) or refresh cookie (token mode); '' clears it. */
  credentialCookie: (value: string, maxAgeMs: number) => string;
}

type Authenticated = Extract<AuthResult, { ok: true }>;
type Handler = (
  request: Request,
  connection: ConnectionInfo | undefined,
  params: string[],
) => Promise<Response>;

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the `/auth` router: a small method + path table, no framework needed. */
export function createAuthRoutes(deps: RouteDeps) {
  const { config, store, sessions, tokens, log, authenticate, refuseCrossOrigin, clientInfo } =
    deps;
  const { credentialCookie } = deps;
  const passwords = createPasswordHasher(config.hashConcurrency);
  const cookieName = tokens ? REFRESH_COOKIE : SESSION_COOKIE;
  const accountLimiter = store.rateLimits.createLimiter({
    name: 'login-account',
    windowMs: config.rateLimitWindowMs,
  });
  const addressLimiter = store.rateLimits.createLimiter({
    name: 'login-address',
    windowMs: config.rateLimitWindowMs,
  });
  const clearedCookie = credentialCookie('', 0);
  const presentedCredential = (request: Request) =>
    readCookie(request.headers.get('cookie'), cookieName);

  const requireSameOrigin = (request: Request, connection: ConnectionInfo | undefined) => {
    const refused = refuseCrossOrigin(request, connection);
    if (refused) throw refused;
  };

  const requireSession = async (
    request: Request,
    connection: ConnectionInfo | undefined,
  ): Promise<Authenticated> => {
    const result = await authenticate(request, connection);
    if (!result.ok) throw result.error;
    return result;
  };

  const withCookies = (response: Response, cookies: string[]) => {
    for (const cookie of cookies) response.headers.append('Set-Cookie', cookie);
    return response;
  };

  const rateLimited = (msBeforeNext: number): LatchkeyError =>
    fail('rate_limited', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(msBeforeNext / 1000))) },
    });

  /** Counts an attempt before checking it, so parallel guesses cannot slip past the limit. */
  const countAttempt = async (limiter: Limiter, key: string, limit: number) => {
    const state = await limiter.hit(key);
    return state.consumed > limit ? state : null;
  };

  /** The session or family the presented cookie belongs to, if it is still ours. */
  const presentedSession = async (request: Request): Promise<SessionRecord | null> => {
    if (tokens) return tokens.refresh.identify(presentedCredential(request));
    const previous = await sessions.validate(presentedCredential(request));
    return previous.ok ? previous.session : null;
  };

  /** Token mode: an access token for the family, as the JSON fields of API.md. */
  const accessTokenBody = async (userId: string, sessionId: string) => {
    if (!tokens) return {};
    const access = await tokens.access.issue(userId, sessionId);
    return { accessToken: access.token, accessTokenExpiresAt: iso(access.expiresAt) };
  };

  /**
   * A new session (or refresh family) for a fresh sign-in, under a fresh id; the
   * presented one, if any, is replaced, never promoted.
   */
  const startSession = async (
    request: Request,
    connection: ConnectionInfo | undefined,
    userId: string,
  ) => {
    const previous = await presentedSession(request);
    if (previous) await store.sessions.deleteSession(previous.id);
    const created = await sessions.create(userId, clientInfo(request, connection));
    return {
      session: created.session,
      setCookie: credentialCookie(created.cookie, config.absoluteTimeoutMs),
      tokenBody: await accessTokenBody(userId, created.session.id),
    };
  };

  const policyCheck = (password: string, email: string) => {
    const problem = checkPasswordPolicy(password, email, {
      minLength: config.passwordMinLength,
      maxLength: config.passwordMaxLength,
    });
    if (problem) throw fail('weak_password');
  };

  const register: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(registerBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const addressKey = ip ?? 'unknown';
    const address = await addressLimiter.get(addressKey);
    if (address && address.consumed >= config.addressLimit) throw rateLimited(address.msBeforeNext);
    policyCheck(body.password, body.email);

    const user = {
      id: crypto.randomUUID(),
      email: body.email,
      name: body.name ?? null,
      passwordHash: await passwords.hash(body.password),
      createdAt: config.now(),
    };
    if (!(await store.users.createUser(user))) {
      // Probing for registered emails counts against the address like a failed login.
      await addressLimiter.hit(addressKey);
      throw fail('email_taken');
    }
    log({ event: 'register', userId: user.id, ip });
    const { session, setCookie, tokenBody } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    const payload: UserResponse = { user: toPublicUser(user), ...tokenBody };
    return withCookies(json(201, payload), [setCookie]);
  };

  const login: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(loginBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const [accountOver, addressOver] = await Promise.all([
      countAttempt(accountLimiter, body.email, config.loginLimit),
      countAttempt(addressLimiter, ip ?? 'unknown', config.addressLimit),
    ]);
    const over = accountOver ?? addressOver;
    if (over) {
      log({ event: 'login_locked', scope: accountOver ? 'account' : 'address', userId: null, ip });
      throw rateLimited(over.msBeforeNext);
    }

    const user = await store.users.getUserByEmail(body.email);
    const valid = user
      ? await passwords.verify(user.passwordHash, body.password)
      : await passwords.verifyAgainstDummy(body.password);
    if (!user || !valid) {
      log({ event: 'login_failed', userId: user?.id ?? null, ip });
      throw fail('invalid_credentials');
    }
    // Only failures count: a good login clears the account and takes back its address hit.
    await Promise.all([accountLimiter.reset(body.email), addressLimiter.refund(ip ?? 'unknown')]);
    const { session, setCookie, tokenBody } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    const payload: UserResponse = { user: toPublicUser(user), ...tokenBody };
    return withCookies(json(200, payload), [setCookie]);
  };

  const logout: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    let target: { userId: string; sessionId: string } | null = null;
    if (tokens) {
      // The refresh cookie names the family; a bearer token's sid is the fallback.
      const family = await tokens.refresh.identify(presentedCredential(request));
      if (family) target = { userId: family.userId, sessionId: family.id };
      else {
        const bearer = await authenticate(request, connection);
        if (bearer.ok) target = bearer;
      }
    } else {
      const result = await authenticate(request, connection);
      if (result.ok) target = result;
      else if (result.error.code === 'csrf_failed' || result.error.code === 'store_unavailable') {
        throw result.error;
      }
    }
    if (target && (await store.sessions.deleteSession(target.sessionId))) {
      log({ event: 'logout', userId: target.userId, sessionId: target.sessionId });
    }
    // Signed out either way: clear the cookie and everything the origin stored.
    return noContent({
      'Set-Cookie': clearedCookie,
      'Clear-Site-Data': '"cache", "cookies", "storage"',
    });
  };

  /** Token mode verifies the access token alone; the session view needs the records. */
  const loadRecords = async (auth: Authenticated) => {
    const session = auth.session ?? (await store.sessions.getSession(auth.sessionId));
    const record = auth.user ? null : await store.users.getUserById(auth.userId);
    const user = auth.user ?? (record ? toPublicUser(record) : null);
    // A revoked family's access token verifies until it expires; its session view does not.
    if (!session || !user || session.userId !== auth.userId) throw fail('unauthenticated');
    return { session, user };
  };

  const currentSession: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const { session, user } = await loadRecords(auth);
    const body: SessionResponse = {
      user,
      session: {
        id: session.id,
        createdAt: iso(session.createdAt),
        expiresAt: iso(session.expiresAt),
        idleExpiresAt: iso(session.idleExpiresAt),
      },
      ...(tokens ? {} : { csrfToken: await sessions.csrfToken(session) }),
    };
    return withCookies(json(200, body), auth.setCookies);
  };

  const listSessions: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const list = await store.sessions.listUserSessions(auth.userId, config.now());
    const body: SessionListResponse = {
      sessions: list.map((s) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        lastSeenAt: iso(s.lastSeenAt),
        expiresAt: iso(s.expiresAt),
        userAgent: s.userAgent,
        ip: s.ip,
        current: s.id === auth.sessionId,
      })),
    };
    return withCookies(json(200, body), auth.setCookies);
  };

  const revokeOne: Handler = async (request, connection, [id]) => {
    const auth = await requireSession(request, connection);
    const target = id ? await store.sessions.getSession(id) : null;
    // Another user's session id is indistinguishable from a missing one.
    if (!target || target.userId !== auth.userId) throw fail('not_found');
    await store.sessions.deleteSession(target.id);
    log({
      event: 'session_revoked',
      userId: target.userId,
      sessionId: target.id,
      by: auth.sessionId,
    });
    return target.id === auth.sessionId
      ? noContent({ 'Set-Cookie': clearedCookie })
      : withCookies(noContent(), auth.setCookies);
  };

  const revokeOthers: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const count = await store.sessions.deleteUserSessions(auth.userId, auth.sessionId);
    log({ event: 'sessions_revoked', userId: auth.userId, count, by: auth.sessionId });
    return withCookies(noContent(), auth.setCookies);
  };

  const changePassword: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const body = parseBody(changePasswordBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const user = await store.users.getUserById(auth.userId);
    if (!user) throw fail('unauthenticated');
    const over = await countAttempt(accountLimiter, user.email, config.loginLimit);
    if (over) {
      log({ event: 'login_locked', scope: 'account', userId: user.id, ip });
      throw rateLimited(over.msBeforeNext);
    }
    if (!(await passwords.verify(user.passwordHash, body.currentPassword))) {
      log({ event: 'password_change_failed', userId: user.id, ip });
      throw fail('invalid_credentials');
    }
    await accountLimiter.reset(user.email);
    policyCheck(body.newPassword, user.email);
    await store.users.setPasswordHash(user.id, await passwords.hash(body.newPassword));
    // Every other device is signed out; this one continues under a fresh id (token
    // mode: a fresh refresh family, for which the client refreshes).
    const revoked = await store.sessions.deleteUserSessions(user.id);
    const created = await sessions.create(user.id, clientInfo(request, connection));
    log({ event: 'password_changed', userId: user.id, sessionId: created.session.id, revoked });
    return noContent({
      'Set-Cookie': credentialCookie(created.cookie, config.absoluteTimeoutMs),
    });
  };

  const refresh: Handler = async (request, connection) => {
    if (!tokens) throw fail('not_found');
    requireSameOrigin(request, connection);
    const outcome = await tokens.refresh.rotate(presentedCredential(request));
    if (!outcome.ok) {
      const { reason, family } = outcome;
      if (reason === 'reused' && family) {
        const { ip } = clientInfo(request, connection);
        log({ event: 'refresh_reused', userId: family.userId, sessionId: family.id, ip });
      } else if (reason === 'expired' && family) {
        log({ event: 'session_expired', userId: family.userId, sessionId: family.id });
      }
      const response = errorResponse(
        fail(
          reason === 'reused'
            ? 'token_reused'
            : reason === 'expired'
              ? 'session_expired'
              : 'unauthenticated',
        ),
      );
      if (reason !== 'missing') response.headers.append('Set-Cookie', clearedCookie);
      return response;
    }
    const { family, cookie } = outcome;
    const user = await store.users.getUserById(family.userId);
    if (!user) {
      await store.sessions.deleteSession(family.id);
      throw fail('unauthenticated');
    }
    const body: TokenResponse = {
      user: toPublicUser(user),
      ...((await accessTokenBody(user.id, family.id)) as Omit<TokenResponse, 'user'>),
    };
    return withCookies(json(200, body), [
      credentialCookie(cookie, family.expiresAt - config.now()),
    ]);
  };

  const jwks: Handler = () =>
    Promise.resolve(
      config.token ? json(200, config.token.keys.jwks) : errorResponse(fail('not_found')),
    );

  const table: { method: string; pattern: RegExp; handler: Handler }[] = [
    { method: 'POST', pattern: /^\/register$/, handler: register },
    { method: 'POST', pattern: /^\/login$/, handler: login },
    { method: 'POST', pattern: /^\/logout$/, handler: logout },
    { method: 'GET', pattern: /^\/session$/, handler: currentSession },
    { method: 'GET', pattern: /^\/sessions$/, handler: listSessions },
    { method: 'DELETE', pattern: /^\/sessions$/, handler: revokeOthers },
    { method: 'DELETE', pattern: /^\/sessions\/([A-Za-z0-9_-]{1,64})$/, handler: revokeOne },
    { method: 'POST', pattern: /^\/password$/, handler: changePassword },
    { method: 'POST', pattern: /^\/refresh$/, handler: refresh },
    { method: 'GET', pattern: /^\/jwks\.json$/, handler: jwks },
  ];

  return async (request: Request, connection?: ConnectionInfo): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (pathname !== config.basePath && !pathname.startsWith(`${config.basePath}/`)) {
      return errorResponse(fail('not_found'));
    }
    const path = pathname.slice(config.basePath.length);
    for (const route of table) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(path);
      if (match) return route.handler(request, connection, match.slice(1));
    }
    return errorResponse(fail('not_found'));
  };
}
