import type { LatchkeyConfig } from '../config.js';
import { createCredentialCodec } from '../credential.js';
import { constantTimeEqual, randomToken, sha256, type Signer } from '../crypto.js';
import { SECRET_BYTES } from '../session.js';
import type { LatchkeyStore, SessionRecord } from '../stores/types.js';

export type RefreshOutcome =
  | { ok: true; family: SessionRecord; cookie: string }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'reused'; family?: SessionRecord };

export interface RefreshStrategy {
  /** Rotates the presented refresh token: a new one, or a verdict. */
  rotate(cookie: string | null): Promise<RefreshOutcome>;
  /** The family a refresh cookie belongs to, if it is its current or just-rotated token. */
  identify(cookie: string | null): Promise<SessionRecord | null>;
}

/** Compare-and-set attempts before giving up on a family that keeps changing under us. */
const MAX_CAS_ATTEMPTS = 16;

/**
 * Refresh families (token mode). Every refresh rotates the family's token with a
 * compare-and-set on its hash, so of two concurrent refreshes exactly one rotates
 * first. Presenting the token that was just replaced is allowed for the retry window
 * (a response lost in transit); any other stale token is a replay of a stolen token,
 * and the whole family is revoked.
 */
export function createRefreshStrategy(
  config: LatchkeyConfig,
  store: LatchkeyStore,
  signer: Signer,
  retryWindowMs: number,
): RefreshStrategy {
  const codec = createCredentialCodec(signer, 'refresh');

  return {
    async rotate(cookie) {
      if (cookie === null) return { ok: false, reason: 'missing' };
      const decoded = await codec.decode(cookie);
      if (!decoded) return { ok: false, reason: 'invalid' };
      let family = await store.sessions.getSession(decoded.id);
      const presented = decoded.secretHash;

      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS && family; attempt++) {
        const now = config.now();
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
        const secret = randomToken(SECRET_BYTES);
        const next = {
          secretHash: await sha256(secret),
          // A retry keeps the original rotation's token and time: the window never grows.
          previousSecretHash: isCurrent ? presented : family.previousSecretHash,
          rotatedAt: isCurrent ? now : (family.rotatedAt ?? now),
          lastSeenAt: now,
          idleExpiresAt: Math.min(now + config.idleTimeoutMs, family.expiresAt),
        };
        if (await store.sessions.rotateSecret(family.id, family.secretHash, next)) {
          return {
            ok: true,
            family: { ...family, ...next },
            cookie: await codec.encode(family.id, secret),
          };
        }
        // Lost the compare-and-set to a concurrent refresh: look again.
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
