import { fail } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { AuthContext, Principal, Result } from './context.js';
import { rateLimited } from './limits.js';
import { verifySecondFactor } from './second-factor.js';
import { markRecentlyAuthenticated } from './step-up.js';

export type ReauthProof = { password: string } | { code: string };

/**
 * `POST /auth/reauth`: a fresh proof of identity from a signed-in caller — the
 * password, or a TOTP code (accepted once, like at sign-in) — marks the session
 * (token mode: refresh family) as recently authenticated for 5 minutes. Wrong
 * guesses count toward the account's lockout, exactly like sign-in failures.
 */
export async function reauthenticate(
  ctx: AuthContext,
  principal: Principal,
  proof: ReauthProof,
  client: ClientInfo,
): Promise<Result<object>> {
  const { ip } = client;
  if ('code' in proof) {
    const verified = await verifySecondFactor(
      ctx,
      principal.userId,
      { code: proof.code },
      { client },
    );
    if (!verified.ok) return verified;
  } else {
    const user = await ctx.store.users.getUserById(principal.userId);
    if (!user) return { ok: false, error: fail('unauthenticated') };
    const over = await ctx.limits.account.exceeded(user.email);
    if (over) {
      ctx.log({ event: 'login_locked', scope: 'account', userId: user.id, ip });
      return { ok: false, error: rateLimited(over) };
    }
    if (!(await ctx.passwords.verify(user.passwordHash, proof.password, 'known_device'))) {
      ctx.log({ event: 'login_failed', userId: user.id, ip });
      return { ok: false, error: fail('invalid_credentials') };
    }
    await ctx.limits.account.reset(user.email);
  }
  await markRecentlyAuthenticated(ctx, principal);
  return { ok: true };
}
