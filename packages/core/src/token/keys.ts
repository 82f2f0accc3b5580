// jose's CryptoKey, not the DOM's global one: the published .d.ts must also compile for a
// Node-only TypeScript project (no "DOM" lib), where that global does not exist.
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { randomToken } from '../crypto.js';

/** Asymmetric algorithms only: never HMAC (shared secret) or RSA PKCS#1 v1.5. */
export type SigningAlgorithm = 'EdDSA' | 'ES256';

/** A private signing key as JWK, with the `kid` that tokens name in their header. */
export interface SigningJwk extends JWK {
  kid: string;
  alg: SigningAlgorithm;
}

export interface KeySet {
  readonly algorithm: SigningAlgorithm;
  /** The key that signs new tokens (the first given). */
  signing(): Promise<{ kid: string; key: CryptoKey }>;
  /** Public keys by kid, for verification; unknown kid → undefined. */
  verifying(kid: string): Promise<CryptoKey | undefined>;
  /** The public JWK Set to publish at /auth/jwks.json. */
  readonly jwks: { keys: JWK[] };
}

/** Keeps only the public members of an OKP or EC JWK: what may be published. */
export function publicJwk(jwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg } = jwk;
  return { kty, crv, x, ...(y === undefined ? {} : { y }), kid, alg, use: 'sig' } as JWK;
}

/** Generates a new signing key (for development and for `keys rotate`). */
export async function generateSigningJwk(
  algorithm: SigningAlgorithm = 'EdDSA',
): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair(algorithm, {
    extractable: true,
    crv: algorithm === 'EdDSA' ? 'Ed25519' : 'P-256',
  });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomToken(12), alg: algorithm };
}

function curveFor(algorithm: SigningAlgorithm): string {
  return algorithm === 'EdDSA' ? 'Ed25519' : 'P-256';
}

/**
 * Validates the configured keys and prepares them. The first key signs; all are
 * published and verify, so a rotated-out key keeps verifying the tokens it signed
 * until they expire. Throws a TypeError naming the bad key (config turns it into a
 * start-up failure).
 */
export function createKeySet(keys: readonly SigningJwk[], algorithm: SigningAlgorithm): KeySet {
  if (keys.length === 0) throw new TypeError('keys: at least one signing key is required');
  const seen = new Set<string>();
  keys.forEach((key, i) => {
    if (typeof key.kid !== 'string' || key.kid.length === 0)
      throw new TypeError(`keys[${i}]: a kid is required`);
    if (seen.has(key.kid)) throw new TypeError(`keys[${i}]: duplicate kid ${key.kid}`);
    seen.add(key.kid);
    if (key.alg !== algorithm)
      throw new TypeError(`keys[${i}]: alg must be ${algorithm}, got ${key.alg}`);
    if (key.crv !== curveFor(algorithm))
      throw new TypeError(`keys[${i}]: crv must be ${curveFor(algorithm)}`);
    if (i === 0 && typeof key.d !== 'string')
      throw new TypeError('keys[0]: the signing key must be a private key');
  });
  const published = keys.map(publicJwk);
  let signingKey: Promise<CryptoKey> | undefined;
  const verifyingKeys = new Map<string, Promise<CryptoKey>>();
  const first = keys[0] as SigningJwk;

  return {
    algorithm,
    async signing() {
      signingKey ??= importJWK(first, algorithm) as Promise<CryptoKey>;
      return { kid: first.kid, key: await signingKey };
    },
    async verifying(kid) {
      const jwk = published.find((k) => k.kid === kid);
      if (!jwk) return undefined;
      let key = verifyingKeys.get(kid);
      if (!key) {
        key = importJWK(jwk, algorithm) as Promise<CryptoKey>;
        verifyingKeys.set(kid, key);
      }
      return key;
    },
    jwks: Object.freeze({ keys: published }),
  };
}
