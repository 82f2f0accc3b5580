import type { LatchkeyConfig } from '../config.js';
import { serializeCookie } from '../cookies.js';
import type { Signer } from '../crypto.js';
import { createDeviceCookies, DEVICE_COOKIE_MAX_AGE_MS } from '../device.js';
import { fail, LatchkeyError } from '../errors.js';
import type { AuthResult, ConnectionInfo } from '../latchkey.js';
import { toPublicUser } from '../latchkey.js';
import type { SecurityEvent } from '../log.js';
import { createPasswordHasher } from '../password.js';
import { assessPassword } from '../strength.js';
import type { ClientInfo, SessionStrategy } from '../session.js';
import type { LatchkeyStore, Limiter, SessionRecord } from '../stores/types.js';
import type { AccessTokens } from '../token/access.js';
import type { RefreshStrategy } from '../token/refresh.js';
import {
  DEVICE_COOKIE,
  REFRESH_COOKIE,
  SESSION_COOKIE,
  type SessionListResponse,
  type SessionResponse,
  type TokenResponse,
  type UserResponse,
} from '../wire.js';
import { readJsonBody } from './body.js';
import { errorResponse, json, noContent } from './respond.js';
import { changePasswordBody, loginBody, parseBody, registerBody } from './schemas.js';

interface RouteDeps {
  config: LatchkeyConfig;
  store: LatchkeyStore;
  signer: Signer;
  /** Session mode: sessions; token mode: refresh families (the same records). */
  sessions: SessionStrategy;
  tokens: { access: AccessTokens; refresh: RefreshStrategy } | null;
  log: (event: SecurityEvent) => void;
  authenticate: (request: Request, connection?: ConnectionInfo) => Promise<AuthResult>;
  refuseCrossOrigin: (request: Request, connection?: ConnectionInfo) => LatchkeyError | null;
  clientInfo: (request: Request, connection?: ConnectionInfo) => ClientInfo;
  /** The session cookie (session mode) or refresh cookie (token mode); '' clears it. */
  credentialCookie: (value: string, maxAgeMs: number) => string;
  /** A credential cookie's value; throws `unauthenticated` when the name is sent twice. */
  presentedCookie: (request: Request, name: string, connection?: ConnectionInfo) => string | null;
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
  const { credentialCookie, presentedCookie } = deps;
  const passwords = createPasswordHasher({
    concurrency: config.hashConcurrency,
    maxWaiting: config.hashQueueLimit,
  });
  const devices = createDeviceCookies(deps.signer, config.now);
  const cookieName = tokens ? REFRESH_COOKIE : SESSION_COOKIE;
  // Failed sign-ins from browsers that do not hold the account's device cookie.
  const accountLimiter = store.rateLimits.createLimiter({
    name: 'login-account',
    windowMs: config.rateLimitWindowMs,
  });
  // Failed sign-ins from one browser that does (keyed by its device cookie's nonce).
  const deviceLimiter = store.rateLimits.createLimiter({
    name: 'login-device',
    windowMs: config.rateLimitWindowMs,
  });
  const addressLimiter = store.rateLimits.createLimiter({
    name: 'login-address',
    windowMs: config.rateLimitWindowMs,
  });
  const registerLimiter = store.rateLimits.createLimiter({
    name: 'register-address',
    windowMs: 3_600_000,
  });
  const clearedCookie = credentialCookie('', 0);
  const presentedCredential = (request: Request, connection?: ConnectionInfo) =>
    presentedCookie(request, cookieName, connection);
  const deviceCookie = (value: string) =>
    serializeCookie(DEVICE_COOKIE, value, {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: config.unsafe.sameSite,
      maxAge: DEVICE_COOKIE_MAX_AGE_MS / 1000,
    });
  const logoutHeaders: Record<string, string> = { 'Set-Cookie': clearedCookie };
  if (config.clearSiteData) logoutHeaders['Clear-Site-Data'] = config.clearSiteData;

  /** Password hashing refused because its queue is full: logged, then passed on. */
  const hashing = async <T>(work: Promise<T>, ip: string | null): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof LatchkeyError && error.code === 'overloaded') {
        log({ event: 'hashing_overloaded', ip });
      }
      throw error;
    }
  };

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
  const presentedSession = async (
    request: Request,
    connection: ConnectionInfo | undefined,
  ): Promise<SessionRecord | null> => {
    const presented = presentedCredential(request, connection);
    if (tokens) return tokens.refresh.identify(presented);
    const previous = await sessions.validate(presented);
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
   * presented one, if any, is replaced, never promoted. The browser also gets a new
   * device cookie for the account (a fresh nonce, so its failure count starts over).
   */
  const startSession = async (
    request: Request,
    connection: ConnectionInfo | undefined,
    userId: string,
  ) => {
    const previous = await presentedSession(request, connection);
    if (previous) await store.sessions.deleteSession(previous.id);
    const created = await sessions.create(userId, clientInfo(request, connection));
    return {
      session: created.session,
      setCookies: [
        credentialCookie(created.cookie, config.absoluteTimeoutMs),
        deviceCookie(await devices.issue(userId)),
      ],
      tokenBody: await accessTokenBody(userId, created.session.id),
    };
  };

  /** API.md's password policy: length, then zxcvbn strength; the 422 says why. */
  const policyCheck = (password: string, user: { email: string; name: string | null }) => {
    const verdict = assessPassword(password, {
      minLength: config.passwordMinLength,
      maxLength: config.passwordMaxLength,
      minScore: config.passwordMinScore,
      email: user.email,
      name: user.name,
      siteName: config.siteName,
    });
    if (!verdict.ok) throw fail('weak_password', { message: verdict.message });
  };

  const register: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(registerBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const addressKey = ip ?? 'unknown';
    // Every sign-up that gets this far costs a hash (or, for a taken email, reveals
    // that it is registered), so each one counts.
    const over = await countAttempt(registerLimiter, addressKey, config.registerLimit);
    if (over) {
      log({ event: 'register_limited', ip });
      throw rateLimited(over.msBeforeNext);
    }
    const name = body.name ?? null;
    policyCheck(body.password, { email: body.email, name });

    const user = {
      id: crypto.randomUUID(),
      email: body.email,
      name,
      passwordHash: await hashing(passwords.hash(body.password, 'register'), ip),
      createdAt: config.now(),
    };
    if (!(await store.users.createUser(user))) throw fail('email_taken');
    log({ event: 'register', userId: user.id, ip });
    const { session, setCookies, tokenBody } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    const payload: UserResponse = { user: toPublicUser(user), ...tokenBody };
    return withCookies(json(201, payload), setCookies);
  };

  const login: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const body = parseBody(loginBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const device = await devices.read(presentedCookie(request, DEVICE_COOKIE, connection));
    const user = await store.users.getUserByEmail(body.email);
    // A browser holding this account's device cookie is judged on its own failures;
    // every other attempt shares the account's count (OWASP device cookies).
    const known = device !== null && user !== null && device.userId === user.id;
    const [ownOver, addressOver] = await Promise.all([
      known
        ? countAttempt(deviceLimiter, device.nonce, config.loginLimit)
        : countAttempt(accountLimiter, body.email, config.loginLimit),
      countAttempt(addressLimiter, ip ?? 'unknown', config.addressLimit),
    ]);
    const over = ownOver ?? addressOver;
    if (over) {
      const scope = ownOver ? (known ? 'device' : 'account') : 'address';
      log({ event: 'login_locked', scope, userId: user?.id ?? null, ip });
      throw rateLimited(over.msBeforeNext);
    }

    const priority = known ? 'known_device' : 'login';
    const valid = await hashing(
      user
        ? passwords.verify(user.passwordHash, body.password, priority)
        : passwords.verifyAgainstDummy(body.password, priority),
      ip,
    );
    if (!user || !valid) {
      log({ event: 'login_failed', userId: user?.id ?? null, ip });
      throw fail('invalid_credentials');
    }
    // Only failures count: a good login clears its own count and takes back its
    // address hit. (A known device's success leaves the strangers' count alone.)
    await Promise.all([
      known ? deviceLimiter.reset(device.nonce) : accountLimiter.reset(body.email),
      addressLimiter.refund(ip ?? 'unknown'),
    ]);
    const { session, setCookies, tokenBody } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    const payload: UserResponse = { user: toPublicUser(user), ...tokenBody };
    return withCookies(json(200, payload), setCookies);
  };

  const logout: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    // A duplicated credential cookie is refused here like everywhere: clearing the
    // genuine cookie because a sibling planted a second one is the attack.
    const presented = presentedCredential(request, connection);
    let target: { userId: string; sessionId: string } | null = null;
    if (tokens) {
      // The refresh cookie names the family; a bearer token's sid is the fallback.
      const family = await tokens.refresh.identify(presented);
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
    // Signed out either way: clear the cookie and the origin's storage (not
    // "cookies", which reaches sibling sites, nor "cache", which stalls Chromium).
    return noContent(logoutHeaders);
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
    if (!(await hashing(passwords.verify(user.passwordHash, body.currentPassword), ip))) {
      log({ event: 'password_change_failed', userId: user.id, ip });
      throw fail('invalid_credentials');
    }
    await accountLimiter.reset(user.email);
    policyCheck(body.newPassword, user);
    await store.users.setPasswordHash(
      user.id,
      await hashing(passwords.hash(body.newPassword, 'login'), ip),
    );
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
    const outcome = await tokens.refresh.rotate(presentedCredential(request, connection));
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
