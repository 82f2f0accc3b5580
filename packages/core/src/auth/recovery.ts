import type { LatchkeyConfig, ResolvedMail } from '../config.js';
import { randomToken, sha256 } from '../crypto.js';
import { fail } from '../errors.js';
import type { SecurityEvent } from '../log.js';
import type { MailTemplate } from '../mail.js';
import type { RateLimitStore, StoredRecord, UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Principal, Result } from './context.js';
import { counted, rateLimited, type CountedLimit } from './limits.js';
import { checkPassword } from './policy.js';
import { endPendingSignIns, hasSecondFactor, verifySecondFactor } from './second-factor.js';

/*
 * Account recovery and email verification (API.md, *Account recovery*). A link carries
 * a 256-bit token in its fragment (`/reset#token=…`), so a link scanner's GET or HEAD
 * reaches only the page, never the token; the page posts it. The store keeps the
 * token's SHA-256 as the record id, never the token. Records die with their account.
 *
 * - `reset-token`: 30 minutes, single use (taken atomically), and only the newest one of
 *   an account works (a new request deletes the older ones).
 * - `verify-token`: 24 hours, single use; the first one used verifies the address and
 *   deletes the others.
 */

export const RESET_KIND = 'reset-token';
export const VERIFY_KIND = 'verify-token';

/** `400 invalid_request` when an account with a second factor resets without a code. */
export const SECOND_FACTOR_REQUIRED =
  'This account has two-step verification: enter a code from your authenticator app or a recovery code.';

/** A token as the links carry it: 43 base64url characters (256 bits). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The mail side of the context: settings, limits and where links point. */
export interface MailContext {
  readonly settings: ResolvedMail;
  /** `<publicUrl>` without a trailing slash. */
  readonly origin: string;
  readonly siteName: string;
  /** Reset requests per normalised email (known or not: the count reveals nothing). */
  readonly perEmail: CountedLimit;
  /** Reset requests per client address. */
  readonly perAddress: CountedLimit;
  /** Verification mails per account. */
  readonly perAccount: CountedLimit;
}

export function createMailContext(
  config: LatchkeyConfig,
  rateLimits: RateLimitStore,
): MailContext | null {
  const settings = config.mail;
  if (!settings) return null;
  const hour = (name: string, limit: number) =>
    counted(rateLimits.createLimiter({ name, windowMs: 3_600_000 }), limit);
  return {
    settings,
    origin: config.publicOrigin.replace(/\/+$/, ''),
    siteName: config.siteName,
    perEmail: hour('reset-email', settings.limit),
    perAddress: hour('reset-address', settings.addressLimit),
    perAccount: hour('verify-account', settings.limit),
  };
}

const mailOf = (ctx: AuthContext): MailContext => {
  if (!ctx.mail) throw new Error('mail is not configured');
  return ctx.mail;
};

/** A short, secret-free name for a failure (an error code or class, never its message). */
export function failureName(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'Error';
}

/**
 * Hands a message to the mailer after the current request has been answered: nothing
 * about mail (the template, the mailer, its failure) can delay or change the answer.
 * A mailer that refuses the message is logged, without the link.
 */
function handOff(
  ctx: AuthContext,
  purpose: 'reset' | 'verify',
  user: Pick<UserRecord, 'email' | 'name'>,
  token: string,
  ttlMs: number,
): void {
  const mail = mailOf(ctx);
  const template: MailTemplate = mail.settings.templates[purpose];
  setTimeout(() => {
    const log = (error: unknown) =>
      ctx.log({
        event: 'mail_failed',
        purpose,
        attempt: 0,
        retry: false,
        error: failureName(error),
      });
    try {
      const message = template({
        email: user.email,
        name: user.name,
        link: `${mail.origin}/${purpose}#token=${token}`,
        validMinutes: Math.round(ttlMs / 60_000),
        siteName: mail.siteName,
      });
      mail.settings.mailer.send({ ...message, to: user.email, purpose }).catch(log);
    } catch (error) {
      log(error);
    }
  }, 0);
}

const tokenRecord = (
  kind: string,
  id: string,
  userId: string | null,
  data: object,
  now: number,
  ttlMs: number,
): StoredRecord => ({
  kind,
  id,
  userId,
  data: JSON.stringify(data),
  createdAt: now,
  expiresAt: now + ttlMs,
});

/**
 * `POST /auth/password/forgot`: mails a reset link if an account has this address. The
 * answer and the work are the same either way: the limits are counted per address and
 * per email (known or not), a token is generated and hashed, and the store runs the same
 * two statements (known: the account's older tokens deleted, the new one inserted;
 * unknown: the address's previous decoy deleted, a new one inserted). The mail itself
 * goes after the answer.
 */
export async function forgotPassword(
  ctx: AuthContext,
  email: string,
  caller: Caller,
): Promise<Result<object>> {
  const mail = mailOf(ctx);
  const { ip } = caller.client;
  const overAddress = await mail.perAddress.exceeded(ip ?? 'unknown');
  const overEmail = await mail.perEmail.exceeded(email);
  const over = overAddress ?? overEmail;
  if (over) {
    ctx.log({ event: 'password_reset_limited', scope: overAddress ? 'address' : 'email', ip });
    return { ok: false, error: rateLimited(over) };
  }
  const token = randomToken(32);
  const id = await sha256(token);
  const now = ctx.now();
  const ttl = mail.settings.resetTtlMs;
  const { records } = ctx.store;
  const user = await ctx.store.users.getUserByEmail(email);
  if (user) {
    // Only the newest link works: a stolen older one is dead once a new one is asked for.
    await records.deleteUserRecords(user.id, RESET_KIND);
    await records.createRecord(tokenRecord(RESET_KIND, id, user.id, {}, now, ttl), now);
    handOff(ctx, 'reset', user, token, ttl);
  } else {
    // The same two statements on a decoy: one per unknown address, with no owner (it can
    // never reset anything), replaced on the next request and swept when it expires. So
    // the store does the same writes as for an account: a delete that finds something
    // only when the address was asked about in the last 30 minutes, and one insert.
    const decoy = await sha256(`decoy:${email}`);
    await records.deleteRecord(RESET_KIND, decoy);
    await records.createRecord(tokenRecord(RESET_KIND, decoy, null, {}, now, ttl), now);
  }
  ctx.log({ event: 'password_reset_requested', userId: user?.id ?? null, ip });
  return { ok: true };
}

export interface ResetPasswordInput {
  token: string;
  newPassword: string;
  /** A TOTP code, when the account has a second factor. */
  code?: string | undefined;
  /** Or one of its recovery codes. */
  recoveryCode?: string | undefined;
}

/**
 * `POST /auth/password/reset`. The token is checked first (unknown, used or expired:
 * `400 invalid_token`), then the new password against the policy (`422`), then, for an
 * account with a second factor, a code (`400 invalid_request` when there is none; a
 * wrong one is the second factor's own failure and counts toward its lockout). Only
 * then is the token taken, atomically: a failed attempt leaves it usable. The password
 * changes, every session and refresh family of the account ends (through the
 * near-cache, so every server learns at once), pending second-factor sign-ins end too,
 * and no new session starts. Proving the mailbox also verifies the address.
 */
export async function resetPassword(
  ctx: AuthContext,
  input: ResetPasswordInput,
  caller: Caller,
): Promise<Result<object>> {
  const { ip } = caller.client;
  const { records } = ctx.store;
  const refused = (userId: string | null) => {
    ctx.log({ event: 'password_reset_failed', userId, ip, reason: 'invalid_token' });
    return { ok: false as const, error: fail('invalid_token') };
  };
  if (!TOKEN.test(input.token)) return refused(null);
  const id = await sha256(input.token);
  const record = await records.getRecord(RESET_KIND, id, ctx.now());
  if (!record?.userId) return refused(null);
  const user = await ctx.store.users.getUserById(record.userId);
  if (!user) return refused(null);

  const weak = await checkPassword(ctx.policy, input.newPassword, user);
  if (weak) return { ok: false, error: weak };

  if (await hasSecondFactor(ctx, user.id)) {
    const proof = {
      ...(input.code ? { code: input.code } : {}),
      ...(input.recoveryCode ? { recoveryCode: input.recoveryCode } : {}),
    };
    if (!proof.code && !proof.recoveryCode) {
      ctx.log({
        event: 'password_reset_failed',
        userId: user.id,
        ip,
        reason: 'second_factor_missing',
      });
      return { ok: false, error: fail('invalid_request', { message: SECOND_FACTOR_REQUIRED }) };
    }
    const verified = await verifySecondFactor(ctx, user.id, proof, caller);
    if (!verified.ok) {
      ctx.log({
        event: 'password_reset_failed',
        userId: user.id,
        ip,
        reason: 'second_factor_refused',
      });
      return { ok: false, error: verified.error };
    }
  }

  // Single use: of two requests racing with one link exactly one gets here.
  const taken = await records.takeRecord(RESET_KIND, id, ctx.now());
  if (taken?.userId !== user.id) return refused(user.id);
  await ctx.store.users.setPasswordHash(
    user.id,
    await ctx.passwords.hash(input.newPassword, 'login'),
  );
  const revoked = await ctx.store.sessions.deleteUserSessions(user.id);
  await endPendingSignIns(ctx, user.id);
  await records.deleteUserRecords(user.id, RESET_KIND);
  if (user.emailVerifiedAt === null) {
    await ctx.store.users.updateUser(user.id, { emailVerifiedAt: ctx.now() });
  }
  ctx.log({ event: 'password_reset', userId: user.id, ip, revoked });
  return { ok: true };
}

/** Creates a verification token for the account and mails its link (after the answer). */
async function mailVerification(ctx: AuthContext, user: UserRecord): Promise<void> {
  const mail = mailOf(ctx);
  const token = randomToken(32);
  const now = ctx.now();
  const ttl = mail.settings.verifyTtlMs;
  const record = tokenRecord(
    VERIFY_KIND,
    await sha256(token),
    user.id,
    { email: user.email },
    now,
    ttl,
  );
  await ctx.store.records.createRecord(record, now);
  handOff(ctx, 'verify', user, token, ttl);
}

/**
 * After a sign-up: the verification mail, started after the answer so it never slows
 * registration. A failure (the store, the mailer) is logged; the user can ask again.
 */
export function welcome(ctx: AuthContext, user: UserRecord): void {
  if (!ctx.mail) return;
  setTimeout(() => {
    mailVerification(ctx, user).catch((error: unknown) =>
      ctx.log({
        event: 'mail_failed',
        purpose: 'verify',
        attempt: 0,
        retry: false,
        error: failureName(error),
      }),
    );
  }, 0);
}

/** `POST /auth/email/verify/send`: another verification link for the signed-in user. */
export async function sendVerification(
  ctx: AuthContext,
  principal: Principal,
  caller: Caller,
): Promise<Result<object>> {
  const mail = mailOf(ctx);
  const { ip } = caller.client;
  const over = await mail.perAccount.exceeded(principal.userId);
  if (over) {
    ctx.log({ event: 'email_verification_limited', userId: principal.userId, ip });
    return { ok: false, error: rateLimited(over) };
  }
  const user = await ctx.store.users.getUserById(principal.userId);
  if (!user) return { ok: false, error: fail('unauthenticated') };
  // Already verified: nothing to send, and nothing to tell apart.
  if (user.emailVerifiedAt === null) await mailVerification(ctx, user);
  return { ok: true };
}

/** `POST /auth/email/verify`: the link's token marks the address verified. */
export async function verifyEmail(
  ctx: AuthContext,
  token: string,
  caller: Caller,
): Promise<Result<object>> {
  if (!TOKEN.test(token)) return { ok: false, error: fail('invalid_token') };
  const { records } = ctx.store;
  const record = await records.takeRecord(VERIFY_KIND, await sha256(token), ctx.now());
  const user = record?.userId ? await ctx.store.users.getUserById(record.userId) : null;
  // The link proves the address it was sent to, and only while the account still has it.
  const sentTo = record ? (JSON.parse(record.data) as { email?: unknown }).email : undefined;
  if (!user || sentTo !== user.email) return { ok: false, error: fail('invalid_token') };
  if (user.emailVerifiedAt === null) {
    await ctx.store.users.updateUser(user.id, { emailVerifiedAt: ctx.now() });
  }
  await records.deleteUserRecords(user.id, VERIFY_KIND);
  const event: SecurityEvent = { event: 'email_verified', userId: user.id, ip: caller.client.ip };
  ctx.log(event);
  return { ok: true };
}
