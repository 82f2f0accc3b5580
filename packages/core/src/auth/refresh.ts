import { fail, type LatchkeyError } from '../errors.js';
import type { ClientInfo } from '../session.js';
import type { SessionRecord, UserRecord } from '../stores/types.js';
import type { AuthContext } from './context.js';

export type RefreshResult =
  | {
      ok: true;
      user: UserRecord;
      family: SessionRecord;
      /** The refresh cookie's new value. */
      credential: string;
      access: { token: string; expiresAt: number };
    }
  /** `clearCredential`: the presented cookie is dead, tell the browser to drop it. */
  | { ok: false; error: LatchkeyError; clearCredential: boolean };

/**
 * Token mode: rotates the refresh token and issues an access token. A replay outside
 * the retry window revokes the family (`token_reused`); a timed-out family is
 * `session_expired`; no cookie at all is `unauthenticated` and clears nothing.
 */
export async function refresh(
  ctx: AuthContext,
  presented: string | null,
  client: ClientInfo,
): Promise<RefreshResult> {
  if (!ctx.tokens) return { ok: false, error: fail('not_found'), clearCredential: false };
  const outcome = await ctx.tokens.refresh.rotate(presented);
  if (!outcome.ok) {
    const { reason, family } = outcome;
    if (reason === 'reused' && family) {
      ctx.log({
        event: 'refresh_reused',
        userId: family.userId,
        sessionId: family.id,
        ip: client.ip,
      });
    } else if (reason === 'expired' && family) {
      ctx.log({ event: 'session_expired', userId: family.userId, sessionId: family.id });
    }
    const code =
      reason === 'reused'
        ? 'token_reused'
        : reason === 'expired'
          ? 'session_expired'
          : 'unauthenticated';
    return { ok: false, error: fail(code), clearCredential: reason !== 'missing' };
  }
  const { family, cookie } = outcome;
  const user = await ctx.store.users.getUserById(family.userId);
  if (!user) {
    await ctx.store.sessions.deleteSession(family.id);
    return { ok: false, error: fail('unauthenticated'), clearCredential: true };
  }
  const access = await ctx.tokens.access.issue(user.id, family.id);
  return { ok: true, user, family, credential: cookie, access };
}
