import type { Signer } from './crypto.js';

const SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** An opaque credential `id.secret.signature`, as carried in a cookie. */
export interface CredentialCodec {
  encode(id: string, secret: string): Promise<string>;
  /** Null for anything malformed or not signed by one of our keys. */
  decode(value: string | null): Promise<{ id: string; secret: string; renew: boolean } | null>;
}

/**
 * Signs `id.secret` for one purpose (session cookie, refresh cookie). The signature
 * lets a forged or tampered value be refused before any store lookup; the secret is
 * then checked against the stored hash.
 */
export function createCredentialCodec(signer: Signer, purpose: string): CredentialCodec {
  return {
    async encode(id, secret) {
      return `${id}.${secret}.${await signer.sign(purpose, `${id}.${secret}`)}`;
    },
    async decode(value) {
      const match = value === null ? null : SHAPE.exec(value);
      if (!match) return null;
      const [, id, secret, signature] = match as unknown as [string, string, string, string];
      const verified = await signer.verify(purpose, `${id}.${secret}`, signature);
      return verified.valid ? { id, secret, renew: verified.renew } : null;
    },
  };
}
