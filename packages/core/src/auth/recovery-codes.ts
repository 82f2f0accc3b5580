import { sha256 } from '../crypto.js';
import type { AuthContext } from './context.js';

/*
 * Recovery codes (ASVS's "lookup secrets"): 10 per set, each 120 bits from the CSPRNG
 * written as 24 Crockford base32 characters in groups of four. Shown once; the store
 * keeps a `recovery-code` record per code whose id is SHA-256 of the user id and the
 * normalised code: at 120 bits (≥ 112) a plain hash is enough (ASVS 6.5.2), and the
 * user id salts it. A code is spent by taking its record (atomic: of two concurrent
 * uses exactly one wins). A new set replaces the old one.
 */

export const RECOVERY_CODE_KIND = 'recovery-code';
export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** 24 characters × 5 bits = 120 bits, as `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`. */
function newCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  // 256 is a multiple of 32: `byte & 31` is uniform.
  const chars = Array.from(bytes, (byte) => ALPHABET[byte & 31] as string);
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += 4) groups.push(chars.slice(i, i + 4).join(''));
  return groups.join('-');
}

/** Lower case, no spaces or dashes, Crockford's look-alikes (o→0, i/l→1) mapped. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

const recordId = (userId: string, code: string) =>
  sha256(`recovery-code\0${userId}\0${normaliseRecoveryCode(code)}`);

/** Replaces the user's recovery codes with a new set and returns it (the only time it is seen). */
export async function issueRecoveryCodes(ctx: AuthContext, userId: string): Promise<string[]> {
  const now = ctx.now();
  await ctx.store.records.deleteUserRecords(userId, RECOVERY_CODE_KIND);
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  for (const code of codes) {
    await ctx.store.records.createRecord(
      {
        kind: RECOVERY_CODE_KIND,
        id: await recordId(userId, code),
        userId,
        data: '{}',
        createdAt: now,
        expiresAt: null,
      },
      now,
    );
  }
  return codes;
}

/** Spends one of the user's recovery codes; false when it is not one (or already spent). */
export async function useRecoveryCode(
  ctx: AuthContext,
  userId: string,
  code: string,
): Promise<boolean> {
  const normalised = normaliseRecoveryCode(code);
  if (!/^[0-9a-z]{24}$/.test(normalised)) return false;
  const taken = await ctx.store.records.takeRecord(
    RECOVERY_CODE_KIND,
    await recordId(userId, normalised),
    ctx.now(),
  );
  return taken?.userId === userId;
}

/** How many unspent recovery codes the user has left. */
export async function remainingRecoveryCodes(ctx: AuthContext, userId: string): Promise<number> {
  return (await ctx.store.records.listUserRecords(RECOVERY_CODE_KIND, userId, ctx.now())).length;
}

export async function removeRecoveryCodes(ctx: AuthContext, userId: string): Promise<number> {
  return ctx.store.records.deleteUserRecords(userId, RECOVERY_CODE_KIND);
}
