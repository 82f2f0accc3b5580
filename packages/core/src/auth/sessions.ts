import { fail } from '../errors.js';
import type { SessionRecord, UserRecord } from '../stores/types.js';
import type { AuthContext, Principal, Result } from './context.js';

/**
 * The caller's session and user, with the anti-forgery token in session mode. Token
 * mode authenticates by the access token alone, so the records are read here.
 */
export async function currentSession(
  ctx: AuthContext,
  principal: Principal & { record?: UserRecord | null },
): Promise<Result<{ user: UserRecord; session: SessionRecord; csrfToken: string | null }>> {
  const session = principal.session ?? (await ctx.store.sessions.getSession(principal.sessionId));
  const user = principal.record ?? (await ctx.store.users.getUserById(principal.userId));
  if (!session || !user || session.userId !== principal.userId) {
    return { ok: false, error: fail('unauthenticated') };
  }
  const csrfToken = ctx.tokens ? null : await ctx.sessions.csrfToken(session);
  return { ok: true, user, session, csrfToken };
}

export function listSessions(ctx: AuthContext, principal: Principal): Promise<SessionRecord[]> {
  return ctx.store.sessions.listUserSessions(principal.userId, ctx.now());
}

/** Revokes one of the caller's own sessions; another user's id is indistinguishable from a missing one. */
export async function revokeSession(
  ctx: AuthContext,
  principal: Principal,
  id: string,
): Promise<Result<{ current: boolean }>> {
  const target = await ctx.store.sessions.getSession(id);
  if (!target || target.userId !== principal.userId) return { ok: false, error: fail('not_found') };
  await ctx.store.sessions.deleteSession(target.id);
  ctx.log({
    event: 'session_revoked',
    userId: target.userId,
    sessionId: target.id,
    by: principal.sessionId,
  });
  return { ok: true, current: target.id === principal.sessionId };
}

/** Signs out every other device of the caller. */
export async function revokeOtherSessions(ctx: AuthContext, principal: Principal): Promise<number> {
  const count = await ctx.store.sessions.deleteUserSessions(principal.userId, principal.sessionId);
  ctx.log({ event: 'sessions_revoked', userId: principal.userId, count, by: principal.sessionId });
  return count;
}
