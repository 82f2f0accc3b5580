/**
 * Random secrets, hashes and HMAC signatures over WebCrypto (no node: imports, so
 * the core runs anywhere `crypto.subtle` does). Nothing here is a home-made
 * primitive: SHA-256 and HMAC-SHA-256 come from the platform.
 */

const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const padded =
    text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** `bytes` of CSPRNG output as base64url (256 bits → 43 characters). */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 of a UTF-8 string, as base64url. Used for secrets at rest. */
export async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/**
 * Compares two strings in time that depends only on their length, so a mismatch
 * position leaks nothing. Lengths here are public (fixed-size hashes).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Result of checking a signature against a rotating key list. */
export type Unsigned =
  | { valid: true; /** an older key matched: re-issue under the current one */ renew: boolean }
  | { valid: false };

/**
 * HMAC-SHA-256 signer over a list of secrets: the first signs, all verify. Each
 * signature is domain-separated by a purpose label so a signature made for one use
 * (a session cookie) can never be replayed as another (a CSRF token).
 */
export interface Signer {
  sign(purpose: string, message: string): Promise<string>;
  verify(purpose: string, message: string, signature: string): Promise<Unsigned>;
}

export function createSigner(secrets: readonly string[]): Signer {
  let keys: Promise<CryptoKey[]> | undefined;
  const loadKeys = () =>
    (keys ??= Promise.all(
      secrets.map((secret) =>
        crypto.subtle.importKey(
          'raw',
          encoder.encode(secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign', 'verify'],
        ),
      ),
    ));
  const data = (purpose: string, message: string) =>
    encoder.encode(`latchkey:${purpose}\0${message}`);

  return {
    async sign(purpose, message) {
      const [current] = await loadKeys();
      if (!current) throw new Error('no signing key');
      return base64url(
        new Uint8Array(await crypto.subtle.sign('HMAC', current, data(purpose, message))),
      );
    },
    async verify(purpose, message, signature) {
      const bytes = fromBase64url(signature);
      if (!bytes || bytes.length !== 32) return { valid: false };
      const all = await loadKeys();
      for (let i = 0; i < all.length; i++) {
        const key = all[i] as CryptoKey;
        // subtle.verify compares in constant time.
        if (await crypto.subtle.verify('HMAC', key, bytes, data(purpose, message))) {
          return { valid: true, renew: i > 0 };
        }
      }
      return { valid: false };
    },
  };
}
