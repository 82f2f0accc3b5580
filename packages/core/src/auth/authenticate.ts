import { fail } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { UserRecord } from '../stores/types.js';
import type { AuthContext, Principal, Result } from './context.js';

export type Authenticated = Principal & {
  /** Session mode: the user, loaded with the session; token mode: null. */
  readonly user: UserRecord | null;
  /** Session mode: the cookie value re-signed under the current key, to re-issue. */
  readonly renewed: string | null;
};

/**
 * Session mode: the session behind a cookie value, sliding its idle expiry; for an
 * unsafe request also the session-bound anti-forgery token.
 */
export async function authenticateSession(
  ctx: AuthContext,
  cookie: string | null,
  /** The anti-forgery token an unsafe request sent; null for a safe method (not checked). */
  csrf: { required: boolean; token: string | null },
  /** Asked only when a refusal is logged: reading headers costs on every request. */
  client: () => ClientInfo,
): Promise<Result<Authenticated>> {
  const result = await ctx.sessions.validate(cookie);
  if (!result.ok) {
    if (result.reason === 'expired' && result.session) {
      const { userId, id } = result.session;
      ctx.log({ event: 'session_expired', userId, sessionId: id });
      return { ok: false, error: fail('session_expired') };
    }
    return {
      ok: false,
      error: fail(result.reason === 'expired' ? 'session_expired' : 'unauthenticated'),
    };
  }
  if (csrf.required && !(await ctx.sessions.verifyCsrfToken(result.session, csrf.token))) {
    ctx.log({ event: 'csrf_refused', reason: 'token', ip: client().ip });
    return { ok: false, error: fail('csrf_failed') };
  }
  return {
    ok: true,
    userId: result.user.id,
    sessionId: result.session.id,
    session: result.session,
    user: result.user,
    renewed: result.renewedCookie,
  };
}

/**
 * Token mode: a bearer access token, verified on its signature and claims, and —
 * unless `statelessAccess` — against its session, so it dies with sign-out,
 * revocation and password change (answered from the near-cache where there is one).
 */
export async function authenticateBearer(
  ctx: AuthContext,
  token: string | null,
): Promise<Result<Authenticated>> {
  const claims = token !== null && ctx.tokens ? await ctx.tokens.access.verify(token) : null;
  if (!claims) return { ok: false, error: fail('unauthenticated') };
  if (!ctx.statelessAccess) {
    const family = await ctx.store.sessions.getSession(claims.sid);
    const now = ctx.now();
    const alive = family && now < family.expiresAt && now < family.idleExpiresAt;
    if (!alive || family.userId !== claims.sub) {
      return { ok: false, error: fail('unauthenticated') };
    }
  }
  return {
    ok: true,
    userId: claims.sub,
    sessionId: claims.sid,
    session: null,
    user: null,
    renewed: null,
  };
}
