import { base64url, fromBase64url } from './crypto.js';

/**
 * Authenticated encryption for secrets the server must read back (a TOTP seed):
 * AES-256-GCM under a key derived with HKDF-SHA-256 from each server secret, all
 * from the platform's WebCrypto (nothing hand-rolled). A 96-bit random IV per seal.
 * The `context` (e.g. `totp:<userId>`) is bound as additional data, so a sealed value
 * copied onto another user's record does not open. With a rotated secret list the
 * first key seals and every key opens.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): Promise<string>;
  /** The plaintext, or null when no key opens it (tampered, other context, retired key). */
  open(sealed: string, context: string): Promise<string | null>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const VERSION = 'v1';

export function createSecretBox(secrets: readonly string[], purpose: string): SecretBox {
  let keys: Promise<CryptoKey[]> | undefined;
  const loadKeys = () =>
    (keys ??= Promise.all(
      secrets.map(async (secret) => {
        const material = await crypto.subtle.importKey(
          'raw',
          encoder.encode(secret),
          'HKDF',
          false,
          ['deriveKey'],
        );
        return crypto.subtle.deriveKey(
          {
            name: 'HKDF',
            hash: 'SHA-256',
            salt: encoder.encode('latchkey:seal:v1'),
            info: encoder.encode(purpose),
          },
          material,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        );
      }),
    ));

  return {
    async seal(plaintext, context) {
      const [key] = await loadKeys();
      if (!key) throw new Error('no sealing key');
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
        key,
        encoder.encode(plaintext),
      );
      return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
    },
    async open(sealed, context) {
      const [version, ivText, bodyText, extra] = sealed.split('.');
      if (version !== VERSION || extra !== undefined || !ivText || !bodyText) return null;
      const iv = fromBase64url(ivText);
      const body = fromBase64url(bodyText);
      if (!iv || iv.length !== 12 || !body) return null;
      for (const key of await loadKeys()) {
        try {
          const plain = await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
            key,
            body,
          );
          return decoder.decode(plain);
        } catch {
          // Not this key (or tampered): try the next one.
        }
      }
      return null;
    },
  };
}
