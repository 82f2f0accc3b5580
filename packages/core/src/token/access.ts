import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { randomToken } from '../crypto.js';
import type { KeySet } from './keys.js';

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface AccessTokenOptions {
  keys: KeySet;
  issuer: string;
  audience: string;
  ttlMs: number;
  now: () => number;
  /** Verified tokens kept to skip signature checks; never past their exp. @default 10000 */
  cacheSize?: number;
}

export interface AccessTokens {
  issue(userId: string, sessionId: string): Promise<{ token: string; expiresAt: number }>;
  /** Null for anything that is not a valid, unexpired token of this issuer for this audience. */
  verify(token: string): Promise<AccessClaims | null>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]{10,2000}\.[A-Za-z0-9_-]{10,4000}\.[A-Za-z0-9_-]{10,1000}$/;

/**
 * Short-lived access JWTs (RFC 9068 `at+jwt`), signed with an asymmetric key and
 * verified with an algorithm allow-list of one, a kid lookup, and exact iss/aud/exp
 * checks. The issuing server enforces `exp` to the second (no clock tolerance),
 * and refuses an `iat` in the future or an `exp - iat` above the configured lifetime.
 */
export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { keys, issuer, audience, ttlMs, now } = options;
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, AccessClaims>();
  const seconds = () => Math.floor(now() / 1000);

  const getKey = async (header: JWTHeaderParameters) => {
    if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey();
    const key = await keys.verifying(header.kid);
    if (!key) throw new errors.JWKSNoMatchingKey();
    return key;
  };

  return {
    async issue(userId, sessionId) {
      const { kid, key } = await keys.signing();
      const iat = seconds();
      const exp = iat + Math.max(1, Math.floor(ttlMs / 1000));
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: keys.algorithm, kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(userId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(randomToken(16))
        .sign(key);
      return { token, expiresAt: exp * 1000 };
    },

    async verify(token) {
      if (!JWT_SHAPE.test(token)) return null;
      const cached = cache.get(token);
      if (cached) {
        if (seconds() < cached.exp) return cached;
        cache.delete(token);
        return null;
      }
      try {
        const { payload } = await jwtVerify(token, getKey, {
          algorithms: [keys.algorithm],
          issuer,
          audience,
          typ: 'at+jwt',
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
          clockTolerance: 0,
          currentDate: new Date(now()),
        });
        const { sub, sid, jti, iat, exp } = payload as Partial<AccessClaims>;
        if (typeof sub !== 'string' || typeof sid !== 'string' || typeof jti !== 'string')
          return null;
        if (typeof iat !== 'number' || typeof exp !== 'number' || seconds() >= exp) return null;
        // A token this issuer never minted: from the future, or living longer than
        // the configured lifetime (a leaked signing key, or a misconfigured issuer).
        if (iat > seconds() || exp - iat > Math.max(1, Math.floor(ttlMs / 1000))) return null;
        const claims: AccessClaims = { sub, sid, jti, iat, exp };
        if (cache.size >= cacheSize) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
        cache.set(token, claims);
        return claims;
      } catch {
        return null;
      }
    },
  };
}
