import { fail } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { AuthContext, Principal, Result } from './context.js';
import { rateLimited } from './limits.js';
import { checkPassword } from './policy.js';
import { endPendingSignIns } from './second-factor.js';
import { createCredential } from './sign-in.js';

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

/**
 * Changes the password after checking the current one (wrong guesses count toward
 * the account's limit). The correct current password is itself the fresh proof of
 * identity this sensitive change needs (the same proof `POST /auth/reauth` takes), so
 * no separate step-up is asked for. Every other device is signed out; this one continues under
 * a fresh session id (token mode: a fresh refresh family, for which the client
 * refreshes) — no fixation across the change.
 */
export async function changePassword(
  ctx: AuthContext,
  principal: Principal,
  input: ChangePasswordInput,
  client: ClientInfo,
): Promise<Result<{ credential: string }>> {
  const { ip } = client;
  const user = await ctx.store.users.getUserById(principal.userId);
  if (!user) return { ok: false, error: fail('unauthenticated') };
  const over = await ctx.limits.account.exceeded(user.email);
  if (over) {
    ctx.log({ event: 'login_locked', scope: 'account', userId: user.id, ip });
    return { ok: false, error: rateLimited(over) };
  }
  if (!(await ctx.passwords.verify(user.passwordHash, input.currentPassword))) {
    ctx.log({ event: 'password_change_failed', userId: user.id, ip });
    return { ok: false, error: fail('invalid_credentials') };
  }
  await ctx.limits.account.reset(user.email);
  const weak = await checkPassword(ctx.policy, input.newPassword, user);
  if (weak) return { ok: false, error: weak };
  await ctx.store.users.setPasswordHash(
    user.id,
    await ctx.passwords.hash(input.newPassword, 'login'),
  );
  const revoked = await ctx.store.sessions.deleteUserSessions(user.id);
  // A sign-in waiting for its second factor proved the old password.
  await endPendingSignIns(ctx, user.id);
  const created = await createCredential(ctx, user.id, client);
  ctx.log({ event: 'password_changed', userId: user.id, sessionId: created.session.id, revoked });
  return { ok: true, credential: created.cookie };
}
