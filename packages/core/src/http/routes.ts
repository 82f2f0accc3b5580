import type { LatchkeyConfig } from '../config.js';
import { readCookie, serializeCookie } from '../cookies.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { AuthResult, ConnectionInfo } from '../latchkey.js';
import { SESSION_COOKIE, toPublicUser } from '../latchkey.js';
import type { SecurityEvent } from '../log.js';
import { crossOriginRefusal } from '../origin.js';
import {
  checkPasswordPolicy,
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from '../password.js';
import type { ClientInfo, SessionStrategy } from '../session.js';
import type { LatchkeyStore, Limiter, SessionRecord } from '../stores/types.js';
import type { SessionListResponse, SessionResponse, UserResponse } from '../wire.js';
import { readJsonBody } from './body.js';
import { errorResponse, json, noContent } from './respond.js';
import { changePasswordBody, loginBody, parseBody, registerBody } from './schemas.js';

interface RouteDeps {
  config: LatchkeyConfig;
  store: LatchkeyStore;
  sessions: SessionStrategy;
  log: (event: SecurityEvent) => void;
  authenticate: (request: Request, connection?: ConnectionInfo) => Promise<AuthResult>;
  clientInfo: (request: Request, connection?: ConnectionInfo) => ClientInfo;
  sessionCookie: (value: string, maxAgeMs: number) => string;
}

type Handler = (
  request: Request,
  connection: ConnectionInfo | undefined,
  params: string[],
) => Promise<Response>;

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the `/auth` router: a small method + path table, no framework needed. */
export function createAuthRoutes(deps: RouteDeps) {
  const { config, store, sessions, log, authenticate, clientInfo, sessionCookie } = deps;
  const accountLimiter = store.rateLimits.createLimiter({
    name: 'login-account',
    windowMs: config.rateLimitWindowMs,
  });
  const addressLimiter = store.rateLimits.createLimiter({
    name: 'login-address',
    windowMs: config.rateLimitWindowMs,
  });

  const clearedCookie = serializeCookie(SESSION_COOKIE, '', {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
    maxAge: 0,
  });

  const requireSameOrigin = (request: Request, connection: ConnectionInfo | undefined) => {
    const refusal = crossOriginRefusal(request, config);
    if (refusal) {
      log({ event: 'csrf_refused', reason: refusal, ip: clientInfo(request, connection).ip });
      throw fail('csrf_failed');
    }
  };

  const requireSession = async (request: Request, connection: ConnectionInfo | undefined) => {
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

  /** A new session for a fresh sign-in; the presented one (if any) is replaced, never promoted. */
  const startSession = async (
    request: Request,
    connection: ConnectionInfo | undefined,
    userId: string,
  ) => {
    const presented = readCookie(request.headers.get('cookie'), SESSION_COOKIE);
    const previous = await sessions.validate(presented);
    if (previous.ok) await store.sessions.deleteSession(previous.session.id);
    const created = await sessions.create(userId, clientInfo(request, connection));
    return {
      session: created.session,
      setCookie: sessionCookie(created.cookie, config.absoluteTimeoutMs),
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
      passwordHash: await hashPassword(body.password),
      createdAt: config.now(),
    };
    if (!(await store.users.createUser(user))) {
      // Probing for registered emails counts against the address like a failed login.
      await addressLimiter.hit(addressKey);
      throw fail('email_taken');
    }
    log({ event: 'register', userId: user.id, ip });
    const { session, setCookie } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    return withCookies(json(201, { user: toPublicUser(user) } satisfies UserResponse), [setCookie]);
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
      ? await verifyPassword(user.passwordHash, body.password)
      : await verifyAgainstDummy(body.password);
    if (!user || !valid) {
      log({ event: 'login_failed', userId: user?.id ?? null, ip });
      throw fail('invalid_credentials');
    }
    await accountLimiter.reset(body.email);
    const { session, setCookie } = await startSession(request, connection, user.id);
    log({ event: 'login_succeeded', userId: user.id, sessionId: session.id, ip });
    return withCookies(json(200, { user: toPublicUser(user) } satisfies UserResponse), [setCookie]);
  };

  const logout: Handler = async (request, connection) => {
    requireSameOrigin(request, connection);
    const result = await authenticate(request, connection);
    if (result.ok) {
      await store.sessions.deleteSession(result.session.id);
      log({ event: 'logout', userId: result.session.userId, sessionId: result.session.id });
    } else if (result.error.code === 'csrf_failed' || result.error.code === 'store_unavailable') {
      throw result.error;
    }
    // Signed out either way: clear the cookie and everything the origin stored.
    return noContent({
      'Set-Cookie': clearedCookie,
      'Clear-Site-Data': '"cache", "cookies", "storage"',
    });
  };

  const currentSession: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const { session } = auth;
    const body: SessionResponse = {
      user: auth.user,
      session: {
        id: session.id,
        createdAt: iso(session.createdAt),
        expiresAt: iso(session.expiresAt),
        idleExpiresAt: iso(session.idleExpiresAt),
      },
      csrfToken: await sessions.csrfToken(session),
    };
    return withCookies(json(200, body), auth.setCookies);
  };

  const listSessions: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const list = await store.sessions.listUserSessions(auth.session.userId, config.now());
    const body: SessionListResponse = {
      sessions: list.map((s: SessionRecord) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        lastSeenAt: iso(s.lastSeenAt),
        expiresAt: iso(s.expiresAt),
        userAgent: s.userAgent,
        ip: s.ip,
        current: s.id === auth.session.id,
      })),
    };
    return withCookies(json(200, body), auth.setCookies);
  };

  const revokeOne: Handler = async (request, connection, [id]) => {
    const auth = await requireSession(request, connection);
    const target = id ? await store.sessions.getSession(id) : null;
    // Another user's session id is indistinguishable from a missing one.
    if (!target || target.userId !== auth.session.userId) throw fail('not_found');
    await store.sessions.deleteSession(target.id);
    log({
      event: 'session_revoked',
      userId: target.userId,
      sessionId: target.id,
      by: auth.session.id,
    });
    return target.id === auth.session.id ? noContent({ 'Set-Cookie': clearedCookie }) : noContent();
  };

  const revokeOthers: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const count = await store.sessions.deleteUserSessions(auth.session.userId, auth.session.id);
    log({ event: 'sessions_revoked', userId: auth.session.userId, count, by: auth.session.id });
    return withCookies(noContent(), auth.setCookies);
  };

  const changePassword: Handler = async (request, connection) => {
    const auth = await requireSession(request, connection);
    const body = parseBody(changePasswordBody, await readJsonBody(request, config.bodyLimit));
    const { ip } = clientInfo(request, connection);
    const user = await store.users.getUserById(auth.session.userId);
    if (!user) throw fail('unauthenticated');
    const over = await countAttempt(accountLimiter, user.email, config.loginLimit);
    if (over) {
      log({ event: 'login_locked', scope: 'account', userId: user.id, ip });
      throw rateLimited(over.msBeforeNext);
    }
    if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
      log({ event: 'password_change_failed', userId: user.id, ip });
      throw fail('invalid_credentials');
    }
    await accountLimiter.reset(user.email);
    policyCheck(body.newPassword, user.email);
    await store.users.setPasswordHash(user.id, await hashPassword(body.newPassword));
    // Every other device is signed out; this one continues under a fresh id.
    const revoked = await store.sessions.deleteUserSessions(user.id);
    const created = await sessions.create(user.id, clientInfo(request, connection));
    log({ event: 'password_changed', userId: user.id, sessionId: created.session.id, revoked });
    return noContent({ 'Set-Cookie': sessionCookie(created.cookie, config.absoluteTimeoutMs) });
  };

  const table: { method: string; pattern: RegExp; handler: Handler }[] = [
    { method: 'POST', pattern: /^\/register$/, handler: register },
    { method: 'POST', pattern: /^\/login$/, handler: login },
    { method: 'POST', pattern: /^\/logout$/, handler: logout },
    { method: 'GET', pattern: /^\/session$/, handler: currentSession },
    { method: 'GET', pattern: /^\/sessions$/, handler: listSessions },
    { method: 'DELETE', pattern: /^\/sessions$/, handler: revokeOthers },
    { method: 'DELETE', pattern: /^\/sessions\/([A-Za-z0-9_-]{1,64})$/, handler: revokeOne },
    { method: 'POST', pattern: /^\/password$/, handler: changePassword },
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
