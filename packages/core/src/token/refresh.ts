import { createCredentialCodec } from '../credential.js';
import { constantTimeEqual, sha256, type Signer } from '../crypto.js';
import { createSessionRecord, type ClientInfo, type SessionTiming } from '../session.js';
import type { LatchkeyStore, SessionRecord } from '../stores/types.js';

export type RefreshOutcome =
  | { ok: true; family: SessionRecord; cookie: string }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'reused'; family?: SessionRecord };

export interface RefreshStrategy {
  /** Starts a family for a fresh sign-in; the cookie carries its first refresh token. */
  create(userId: string, client: ClientInfo): Promise<{ session: SessionRecord; cookie: string }>;
  /** Rotates the presented refresh token: a new one, or a verdict. */
  rotate(cookie: string | null): Promise<RefreshOutcome>;
  /** The family a refresh cookie belongs to, if it is its current or just-rotated token. */
  identify(cookie: string | null): Promise<SessionRecord | null>;
}

/** Compare-and-set attempts before giving up on a family that keeps changing under us. */
const MAX_CAS_ATTEMPTS = 16;

/**
 * Signer purpose of a token's successor (an HMAC-SHA-256: 32 bytes, like a random
 * secret). Distinct from every credential purpose, so a successor is never the
 * signature of any cookie, which its holder can read.
 */
const SUCCESSOR_PURPOSE = 'refresh-successor';

/**
 * Refresh families (token mode). Every refresh rotates the family's token with a
 * compare-and-set on its hash. The successor of a token is not random but
 * HMAC(first server secret, family id + the presented raw secret): unpredictable
 * without both, never computable from the stored hashes, and the same for every
 * request that presents the same token. So when two refreshes race (or a response is
 * lost and retried) within the retry window, the later one finds the family already
 * rotated to exactly the successor it would have made and answers with that same
 * cookie: nothing is rotated twice, and every cookie answered stays usable. Any other
 * stale token is a replay of a stolen token, and the whole family is revoked.
 */
export function createRefreshStrategy(
  store: LatchkeyStore,
  signer: Signer,
  timing: SessionTiming & { retryWindowMs: number },
): RefreshStrategy {
  const codec = createCredentialCodec(signer, 'refresh');
  const { retryWindowMs } = timing;

  return {
    create: (userId, client) => createSessionRecord(store, codec, timing, userId, client),

    async rotate(cookie) {
      if (cookie === null) return { ok: false, reason: 'missing' };
      const decoded = await codec.decode(cookie);
      if (!decoded) return { ok: false, reason: 'invalid' };
      let family = await store.sessions.getSession(decoded.id);
      const presented = decoded.secretHash;
      // From the raw secret, never its hash: a leaked database must not yield tokens.
      const successor = await signer.sign(SUCCESSOR_PURPOSE, `${decoded.id}.${decoded.secret}`);
      const successorHash = await sha256(successor);

      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS && family; attempt++) {
        const now = timing.now();
        if (now >= family.expiresAt || now >= family.idleExpiresAt) {
          await store.sessions.deleteSession(family.id);
          return { ok: false, reason: 'expired', family };
        }
        const isCurrent = constantTimeEqual(presented, family.secretHash);
        const isRetry =
          !isCurrent &&
          family.previousSecretHash !== null &&
          family.rotatedAt !== null &&
          now - family.rotatedAt <= retryWindowMs &&
          constantTimeEqual(presented, family.previousSecretHash);
        if (!isCurrent && !isRetry) {
          await store.sessions.deleteSession(family.id);
          return { ok: false, reason: 'reused', family };
        }
        if (isRetry && constantTimeEqual(successorHash, family.secretHash)) {
          // Already rotated to this token's successor (a racing or lost request):
          // answer with that same cookie instead of rotating again.
          return { ok: true, family, cookie: await codec.encode(family.id, successor) };
        }
        // A retry whose successor differs from the current token comes from a server
        // signing with another first secret (a key rollout), or follows a rotation made
        // before successors were derived: rotate as before, keeping the original
        // rotation's token and time, so the window never grows.
        const next = {
          secretHash: successorHash,
          previousSecretHash: isCurrent ? presented : family.previousSecretHash,
          rotatedAt: isCurrent ? now : (family.rotatedAt ?? now),
          lastSeenAt: now,
          idleExpiresAt: Math.min(now + timing.idleTimeoutMs, family.expiresAt),
        };
        if (await store.sessions.rotateSecret(family.id, family.secretHash, next)) {
          return {
            ok: true,
            family: { ...family, ...next },
            cookie: await codec.encode(family.id, successor),
          };
        }
        // Lost the compare-and-set to a concurrent refresh: look again (usually to
        // find it rotated to our successor, answered above).
        family = await store.sessions.getSession(decoded.id);
      }
      return { ok: false, reason: 'invalid' };
    },

    async identify(cookie) {
      const decoded = await codec.decode(cookie);
      if (!decoded) return null;
      const family = await store.sessions.getSession(decoded.id);
      if (!family) return null;
      const presented = decoded.secretHash;
      const known =
        constantTimeEqual(presented, family.secretHash) ||
        (family.previousSecretHash !== null &&
          constantTimeEqual(presented, family.previousSecretHash));
      return known ? family : null;
    },
  };
}
