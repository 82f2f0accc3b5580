import { createBoundedCache } from './bounded-cache.js';
import { sha256, type Signer } from './crypto.js';

const NOTHING: Promise<null> = Promise.resolve(null);

const SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

export interface DecodedCredential {
  readonly id: string;
  readonly secret: string;
  /** SHA-256 of the secret, as the store keeps it. */
  readonly secretHash: string;
  /** Signed by an older key: re-issue under the current one. */
  readonly renew: boolean;
}

/** An opaque credential `id.secret.signature`, as carried in a cookie. */
export interface CredentialCodec {
  encode(id: string, secret: string): Promise<string>;
  /** Null for anything malformed or not signed by one of our keys. */
  decode(value: string | null): Promise<DecodedCredential | null>;
}

export interface CredentialCodecOptions {
  /**
   * Remember this many values that verified, so a credential presented again skips
   * the HMAC and the hash (most of an auth check's CPU). Only a byte-identical value
   * that already verified under this codec's fixed keys can hit, so the outcome is
   * the one verification would give. 0 turns it off (single-use credentials).
   * @default 0
   */
  cacheEntries?: number;
}

/**
 * Signs `id.secret` for one purpose (session cookie, refresh cookie). The signature
 * lets a forged or tampered value be refused before any store lookup; the secret is
 * then checked against the stored hash.
 */
export function createCredentialCodec(
  signer: Signer,
  purpose: string,
  options: CredentialCodecOptions = {},
): CredentialCodec {
  const verified = createBoundedCache<DecodedCredential>(options.cacheEntries ?? 0);

  const verify = async (value: string): Promise<DecodedCredential | null> => {
    const match = SHAPE.exec(value);
    if (!match) return null;
    const [, id, secret, signature] = match as unknown as [string, string, string, string];
    const result = await signer.verify(purpose, `${id}.${secret}`, signature);
    if (!result.valid) return null;
    const decoded = Object.freeze({
      id,
      secret,
      secretHash: await sha256(secret),
      renew: result.renew,
    });
    verified.set(value, decoded);
    return decoded;
  };

  return {
    async encode(id, secret) {
      return `${id}.${secret}.${await signer.sign(purpose, `${id}.${secret}`)}`;
    },
    // Not an async function: a value presented again (every request of a session)
    // is answered from the cache without an async function's frame and suspension.
    decode(value) {
      if (value === null) return NOTHING;
      const known = verified.get(value);
      return known ? Promise.resolve(known) : verify(value);
    },
  };
}
