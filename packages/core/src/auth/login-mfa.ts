import { randomToken, sha256 } from '../crypto.js';
import { fail } from '../errors.js';
import type { UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Result } from './context.js';
import {
  MFA_PENDING_KIND,
  verifySecondFactor,
  type FactorLimit,
  type SecondFactorProof,
} from './second-factor.js';
import { startSignIn, type SignIn } from './sign-in.js';

/** How long the second step of a sign-in may wait: 5 minutes. */
export const MFA_PENDING_TTL_MS = 5 * 60_000;

interface PendingData {
  /** The browser's device-cookie nonce, when it held the account's: its failures count there. */
  device: string | null;
  /**
   * What the first step hands to the completion, opaque here: the OpenID provider's
   * identity and tokens (sealed) when the first step was a provider sign-in.
   */
  carry?: string;
}

/** A two-step sign-in waiting for its second factor: the pending cookie's value. */
export interface PendingSignIn {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * After a correct password for an account with a second factor: no session yet, but
 * a pending sign-in (256-bit secret for the `__Host-Http-mfa` cookie; the store keeps
 * its hash) that `finishSignIn` completes within 5 minutes, once.
 */
export async function startPendingSignIn(
  ctx: AuthContext,
  userId: string,
  device: string | null,
  carry?: string,
): Promise<PendingSignIn> {
  const now = ctx.now();
  const token = randomToken();
  const expiresAt = now + MFA_PENDING_TTL_MS;
  const data: PendingData = carry === undefined ? { device } : { device, carry };
  await ctx.store.records.createRecord(
    {
      kind: MFA_PENDING_KIND,
      id: await sha256(token),
      userId,
      data: JSON.stringify(data),
      createdAt: now,
      expiresAt,
    },
    now,
  );
  return { token, expiresAt };
}

/**
 * The second step: the pending cookie and a TOTP or recovery code. Wrong codes count
 * toward the lockout (the device's count for a browser holding the account's device
 * cookie, else the account's) and leave the pending sign-in usable until it expires;
 * a good one spends it (taken atomically: one sign-in per password) and starts the
 * session. A missing, unknown, used or expired pending cookie is `401 unauthenticated`
 * (sign in again). `carry` is what the first step left for the completion (null after
 * a password).
 */
export async function finishSignIn(
  ctx: AuthContext,
  pending: string | null,
  proof: SecondFactorProof,
  caller: Caller,
): Promise<Result<{ user: UserRecord; signIn: SignIn; carry: string | null }>> {
  if (!pending || pending.length > 128) return { ok: false, error: fail('unauthenticated') };
  const id = await sha256(pending);
  const record = await ctx.store.records.getRecord(MFA_PENDING_KIND, id, ctx.now());
  if (!record?.userId) return { ok: false, error: fail('unauthenticated') };
  const userId = record.userId;
  const { device, carry } = JSON.parse(record.data) as PendingData;
  const limit: FactorLimit | undefined = device
    ? { scope: 'device', limit: ctx.limits.device, key: device }
    : undefined;
  const verified = await verifySecondFactor(ctx, userId, proof, caller, limit ? { limit } : {});
  if (!verified.ok) return verified;
  const taken = await ctx.store.records.takeRecord(MFA_PENDING_KIND, id, ctx.now());
  const user = await ctx.store.users.getUserById(userId);
  if (!taken || !user) return { ok: false, error: fail('unauthenticated') };
  const signIn = await startSignIn(ctx, caller, user.id);
  ctx.log({
    event: 'login_mfa',
    userId: user.id,
    sessionId: signIn.session.id,
    ip: caller.client.ip,
    method: verified.method,
  });
  return { ok: true, user, signIn, carry: carry ?? null };
}
