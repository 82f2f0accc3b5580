import { Secret, TOTP } from 'otpauth';
import { fail } from '../errors.js';
import type { AuthContext, Result } from './context.js';

/*
 * TOTP (RFC 6238) with the parameters every authenticator app supports: HMAC-SHA-1,
 * 6 digits, 30-second steps, a 160-bit seed from the CSPRNG. The seed is kept
 * encrypted (see `SecretBox`) in a `totp` record keyed by the user id, with the last
 * time step a code was accepted for: a code is accepted only for a later step (so a
 * replay in the same step, or an older code, is refused) and the step moves by a
 * compare-and-set on the record, so of two requests racing with one code exactly
 * one wins, on every store. One step of clock drift either way is accepted.
 */

export const TOTP_KIND = 'totp';
/** An enrolment not yet confirmed with a code; id = user id. */
export const TOTP_PENDING_KIND = 'totp-pending';
/** How long an unconfirmed enrolment waits for its first code. */
export const TOTP_ENROL_TTL_MS = 15 * 60_000;

export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
/** Steps either side of now that are accepted (clock drift). */
export const TOTP_WINDOW = 1;

interface TotpData {
  /** The base32 seed, sealed (AES-256-GCM, bound to `totp:<userId>`). */
  secret: string;
  /** The last accepted time step; a code must be for a later one. */
  lastStep: number | null;
}

const sealContext = (userId: string) => `totp:${userId}`;

/** The time step a code is valid for at `now` (±`TOTP_WINDOW`), or null. */
export function totpStep(base32Secret: string, code: string, now: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(base32Secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: now,
    window: TOTP_WINDOW,
  });
  if (delta === null) return null;
  return Math.floor(now / 1000 / TOTP_PERIOD_S) + delta;
}

/** The code for `now` (tests, and nothing else, need this). */
export function totpCode(base32Secret: string, now: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(base32Secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: now,
  });
}

/** Spaces and dashes are allowed in what a person types. */
export const normaliseCode = (code: string) => code.replace(/[\s-]/g, '');

/** Whether the user has TOTP switched on (a confirmed `totp` record). */
export async function hasTotp(ctx: AuthContext, userId: string): Promise<boolean> {
  return (await ctx.store.records.getRecord(TOTP_KIND, userId, ctx.now())) !== null;
}

/**
 * Checks a code against the user's active TOTP and, if it is good for a step later
 * than the last accepted one, records that step (compare-and-set). False for a
 * wrong, replayed or out-of-window code, and for the loser of a race.
 */
export async function useTotpCode(
  ctx: AuthContext,
  userId: string,
  code: string,
): Promise<boolean> {
  const now = ctx.now();
  const record = await ctx.store.records.getRecord(TOTP_KIND, userId, now);
  if (!record) return false;
  const data = JSON.parse(record.data) as TotpData;
  const secret = await ctx.factorSecrets.open(data.secret, sealContext(userId));
  if (secret === null) throw new Error('TOTP seed cannot be decrypted with the configured secrets');
  const step = totpStep(secret, normaliseCode(code), now);
  if (step === null || (data.lastStep !== null && step <= data.lastStep)) return false;
  const next: TotpData = { ...data, lastStep: step };
  return ctx.store.records.replaceRecord(
    TOTP_KIND,
    userId,
    record.data,
    { data: JSON.stringify(next), expiresAt: null },
    now,
  );
}

/**
 * Starts an enrolment: a fresh seed, kept (sealed) in a `totp-pending` record until a
 * code confirms it. Refused while TOTP is already on (remove it first).
 */
export async function startTotpEnrolment(
  ctx: AuthContext,
  user: { id: string; email: string },
): Promise<Result<{ secret: string; otpauthUrl: string }>> {
  if (await hasTotp(ctx, user.id)) {
    return {
      ok: false,
      error: fail('invalid_request', {
        message: 'An authenticator app is already set up. Remove it first.',
      }),
    };
  }
  const now = ctx.now();
  const seed = new Secret({ size: 20 });
  const totp = new TOTP({
    issuer: ctx.policy.siteName,
    label: user.email,
    secret: seed,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: TOTP_PERIOD_S,
  });
  const data: TotpData = {
    secret: await ctx.factorSecrets.seal(seed.base32, sealContext(user.id)),
    lastStep: null,
  };
  const record = {
    kind: TOTP_PENDING_KIND,
    id: user.id,
    userId: user.id,
    data: JSON.stringify(data),
    createdAt: now,
    expiresAt: now + TOTP_ENROL_TTL_MS,
  };
  // A new enrolment replaces an unconfirmed one.
  await ctx.store.records.deleteRecord(TOTP_PENDING_KIND, user.id);
  if (!(await ctx.store.records.createRecord(record, now))) {
    return { ok: false, error: fail('invalid_request', { message: 'Try again.' }) };
  }
  return { ok: true, secret: seed.base32, otpauthUrl: totp.toString() };
}

/**
 * Confirms the pending enrolment with a code from the app: the seed becomes the
 * user's active `totp` record (that code's step already used). False when there is
 * no pending enrolment, the code is wrong, or TOTP got switched on meanwhile.
 */
export async function confirmTotpEnrolment(
  ctx: AuthContext,
  userId: string,
  code: string,
): Promise<boolean> {
  const now = ctx.now();
  const pending = await ctx.store.records.getRecord(TOTP_PENDING_KIND, userId, now);
  if (!pending) return false;
  const data = JSON.parse(pending.data) as TotpData;
  const secret = await ctx.factorSecrets.open(data.secret, sealContext(userId));
  if (secret === null) return false;
  const step = totpStep(secret, normaliseCode(code), now);
  if (step === null) return false;
  const active: TotpData = { secret: data.secret, lastStep: step };
  const created = await ctx.store.records.createRecord(
    {
      kind: TOTP_KIND,
      id: userId,
      userId,
      data: JSON.stringify(active),
      createdAt: now,
      expiresAt: null,
    },
    now,
  );
  if (created) await ctx.store.records.deleteRecord(TOTP_PENDING_KIND, userId);
  return created;
}

/** Switches TOTP off: the seed and any pending enrolment go. Returns whether it was on. */
export async function removeTotp(ctx: AuthContext, userId: string): Promise<boolean> {
  await ctx.store.records.deleteRecord(TOTP_PENDING_KIND, userId);
  return ctx.store.records.deleteRecord(TOTP_KIND, userId);
}
