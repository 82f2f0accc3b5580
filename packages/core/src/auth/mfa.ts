import { fail } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { AuthContext, Principal, Result } from './context.js';
import { rateLimited } from './limits.js';
import { issueRecoveryCodes, removeRecoveryCodes } from './recovery-codes.js';
import { requireRecentAuth } from './step-up.js';
import { confirmTotpEnrolment, removeTotp, startTotpEnrolment } from './totp.js';

/*
 * The caller's own second factors. Adding or removing one needs a recent proof of
 * identity (`requireRecentAuth`); the records are written first and `user.mfa` (what
 * the user is shown) after them, since sign-in reads only the records.
 */

/** Puts `factor` in or out of the user's displayed list of second factors. */
export async function listFactor(
  ctx: AuthContext,
  userId: string,
  factor: string,
  on: boolean,
): Promise<void> {
  const user = await ctx.store.users.getUserById(userId);
  if (!user) return;
  const mfa = user.mfa.filter((name) => name !== factor);
  if (on) mfa.push(factor);
  await ctx.store.users.updateUser(userId, { mfa });
}

/** `POST /auth/mfa/totp`: a new seed to show as a QR code; not active until confirmed. */
export async function beginTotp(
  ctx: AuthContext,
  principal: Principal,
): Promise<Result<{ secret: string; otpauthUrl: string }>> {
  const recent = await requireRecentAuth(ctx, principal);
  if (!recent.ok) return recent;
  const user = await ctx.store.users.getUserById(principal.userId);
  if (!user) return { ok: false, error: fail('unauthenticated') };
  return startTotpEnrolment(ctx, user);
}

/**
 * `POST /auth/mfa/totp/confirm`: a code from the app switches TOTP on and returns a
 * new set of 10 recovery codes (the only time they are seen). A wrong code counts
 * toward the account's lockout and is `400 invalid_token`.
 */
export async function confirmTotp(
  ctx: AuthContext,
  principal: Principal,
  code: string,
  client: ClientInfo,
): Promise<Result<{ recoveryCodes: string[] }>> {
  const { userId } = principal;
  const user = await ctx.store.users.getUserById(userId);
  if (!user) return { ok: false, error: fail('unauthenticated') };
  const over = await ctx.limits.account.exceeded(user.email);
  if (over) {
    ctx.log({ event: 'login_locked', scope: 'account', userId, ip: client.ip });
    return { ok: false, error: rateLimited(over) };
  }
  if (!(await confirmTotpEnrolment(ctx, userId, code))) {
    ctx.log({ event: 'mfa_failed', userId, ip: client.ip, method: 'totp' });
    return { ok: false, error: fail('invalid_token') };
  }
  await ctx.limits.account.refund(user.email);
  const recoveryCodes = await issueRecoveryCodes(ctx, userId);
  await listFactor(ctx, userId, 'totp', true);
  ctx.log({
    event: 'mfa_changed',
    userId,
    sessionId: principal.sessionId,
    factor: 'totp',
    change: 'added',
  });
  return { ok: true, recoveryCodes };
}

/** `DELETE /auth/mfa/totp`: TOTP and its recovery codes go; sign-in is one step again. */
export async function disableTotp(ctx: AuthContext, principal: Principal): Promise<Result<object>> {
  const recent = await requireRecentAuth(ctx, principal);
  if (!recent.ok) return recent;
  const { userId } = principal;
  const removed = await removeTotp(ctx, userId);
  await removeRecoveryCodes(ctx, userId);
  await listFactor(ctx, userId, 'totp', false);
  if (removed) {
    ctx.log({
      event: 'mfa_changed',
      userId,
      sessionId: principal.sessionId,
      factor: 'totp',
      change: 'removed',
    });
  }
  return { ok: true };
}
