import { fail } from '../errors.js';
import type { SessionRecord } from '../stores/types.js';
import type { AuthContext, Principal, Result } from './context.js';

/** How long a proof of identity (or a sign-in) counts as recent: 5 minutes. */
export const RECENT_AUTH_MS = 5 * 60_000;

/** Record kind of the "recently authenticated" mark; id = session (refresh family) id. */
export const REAUTH_KIND = 'reauth';

/** Who is asking: the session (or refresh family) and, when loaded, its record. */
export type StepUpPrincipal = Pick<Principal, 'userId' | 'sessionId'> & {
  readonly session?: SessionRecord | null;
};

/**
 * Marks the caller's session (token mode: refresh family) as recently authenticated
 * for `RECENT_AUTH_MS`, after a fresh proof of identity (password, TOTP code, passkey
 * assertion). The mark is a `reauth` record keyed by the session id and owned by the
 * user, so it dies with the account and expires on its own; a new proof moves it on.
 */
export async function markRecentlyAuthenticated(
  ctx: AuthContext,
  principal: StepUpPrincipal,
): Promise<void> {
  const { records } = ctx.store;
  const now = ctx.now();
  const next = { data: JSON.stringify({ at: now }), expiresAt: now + RECENT_AUTH_MS };
  const record = {
    kind: REAUTH_KIND,
    id: principal.sessionId,
    userId: principal.userId,
    createdAt: now,
    ...next,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await records.createRecord(record, now)) return;
    const current = await records.getRecord(REAUTH_KIND, principal.sessionId, now);
    // Another proof raced this one and also marked the session: recent either way.
    if (current && (await records.replaceRecord(REAUTH_KIND, record.id, current.data, next, now)))
      return;
  }
}

/**
 * `401 reauth_required` unless the caller proved who they are within the last
 * 5 minutes: a sign-in (the session or refresh family itself is that young — every
 * sign-in path, password + second factor or passkey, starts one) or a step-up mark
 * (`POST /auth/reauth`, see `markRecentlyAuthenticated`).
 */
export async function requireRecentAuth(
  ctx: AuthContext,
  principal: StepUpPrincipal,
): Promise<Result<object>> {
  const now = ctx.now();
  const session = principal.session ?? (await ctx.store.sessions.getSession(principal.sessionId));
  if (session?.userId === principal.userId && now - session.createdAt < RECENT_AUTH_MS) {
    return { ok: true };
  }
  const mark = await ctx.store.records.getRecord(REAUTH_KIND, principal.sessionId, now);
  if (mark?.userId === principal.userId) return { ok: true };
  return { ok: false, error: fail('reauth_required') };
}
