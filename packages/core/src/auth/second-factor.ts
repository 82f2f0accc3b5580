import { fail } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { AuthContext, Result } from './context.js';
import { rateLimited, type CountedLimit } from './limits.js';
import { useRecoveryCode } from './recovery-codes.js';
import { hasTotp, useTotpCode } from './totp.js';

/** Record kind of a pending two-step sign-in; id = hash of the pending cookie's secret. */
export const MFA_PENDING_KIND = 'mfa-pending';

/** What a person offers as their second factor: a TOTP code or one recovery code. */
export interface SecondFactorProof {
  code?: string;
  recoveryCode?: string;
}

/**
 * Which failure counter a second-factor attempt counts against. Default: the
 * account's (keyed by its email, shared with password sign-in); a two-step sign-in
 * from a browser holding the account's device cookie counts against that device.
 */
export interface FactorLimit {
  readonly scope: 'account' | 'device';
  readonly limit: CountedLimit;
  readonly key: string;
}

/**
 * Whether the user must give a second factor after their password, decided from the
 * factor records (an active TOTP seed), never from `user.mfa`. (Passkeys are a whole
 * sign-in of their own and do not make the password path two-step.)
 */
export function hasSecondFactor(ctx: AuthContext, userId: string): Promise<boolean> {
  return hasTotp(ctx, userId);
}

/**
 * Checks and spends a second factor: a TOTP code (accepted once, for a later time
 * step than the last one used) or a recovery code (single use). Every attempt counts
 * first toward the lockout (the account's failure count unless `limit` says
 * otherwise), so guesses are bounded like password guesses; a success clears it.
 * `400 invalid_token` for a wrong, replayed or spent code, `429 rate_limited` when
 * locked, `400 invalid_request` when the proof names nothing.
 */
export async function verifySecondFactor(
  ctx: AuthContext,
  userId: string,
  proof: SecondFactorProof,
  caller: { client: ClientInfo },
  options: { limit?: FactorLimit } = {},
): Promise<Result<{ method: 'totp' | 'recovery_code' }>> {
  const { ip } = caller.client;
  const method = proof.code !== undefined ? 'totp' : 'recovery_code';
  const given = proof.code ?? proof.recoveryCode;
  if (given === undefined) {
    return { ok: false, error: fail('invalid_request', { message: 'Enter a code.' }) };
  }
  const user = await ctx.store.users.getUserById(userId);
  if (!user) return { ok: false, error: fail('invalid_token') };
  const own = options.limit ?? { scope: 'account', limit: ctx.limits.account, key: user.email };
  const over = await own.limit.exceeded(own.key);
  if (over) {
    ctx.log({ event: 'login_locked', scope: own.scope, userId, ip });
    return { ok: false, error: rateLimited(over) };
  }
  const good =
    method === 'totp'
      ? await useTotpCode(ctx, userId, given)
      : await useRecoveryCode(ctx, userId, given);
  if (!good) {
    ctx.log({ event: 'mfa_failed', userId, ip, method });
    return { ok: false, error: fail('invalid_token') };
  }
  await own.limit.reset(own.key);
  return { ok: true, method };
}

/**
 * Ends every two-step sign-in of the user that is waiting for its second factor
 * (after a password reset or change, the password they proved is no longer the one).
 */
export function endPendingSignIns(ctx: AuthContext, userId: string): Promise<number> {
  return ctx.store.records.deleteUserRecords(userId, MFA_PENDING_KIND);
}
