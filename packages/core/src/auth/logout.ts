import type { AuthContext, Principal } from './context.js';

/**
 * Ends the caller's session (session mode) or refresh family (token mode, named by
 * the refresh cookie, else by the bearer token's `sid`). Signing out without a live
 * session is not an error: the transport clears the cookie either way.
 */
export async function logout(
  ctx: AuthContext,
  caller: { presented: string | null; principal: Principal | null },
): Promise<{ revoked: boolean }> {
  let target = caller.principal;
  if (ctx.tokens) {
    const family = await ctx.tokens.refresh.identify(caller.presented);
    if (family) target = { userId: family.userId, sessionId: family.id, session: family };
  }
  if (!target || !(await ctx.store.sessions.deleteSession(target.sessionId))) {
    return { revoked: false };
  }
  ctx.log({ event: 'logout', userId: target.userId, sessionId: target.sessionId });
  return { revoked: true };
}
