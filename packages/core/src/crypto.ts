import type * as NodeCrypto from 'node:crypto';

/**
 * Random secrets, hashes and HMAC signatures. Nothing here is a home-made primitive:
 * SHA-256 and HMAC-SHA-256 come from the platform. On Node the synchronous
 * node:crypto functions are used (found at run time, so the core still has no static
 * node: import and runs wherever `crypto.subtle` does): Node's WebCrypto queues
 * every call on the thread pool, which measured ~18k HMAC verifies/s against
 * ~500k/s for node:crypto, and an auth check runs on every request.
 */

const encoder = new TextEncoder();

const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined;

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
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(text).digest('base64url');
  return sha256WebCrypto(text);
}

export async function sha256WebCrypto(text: string): Promise<string> {
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
  return nodeCrypto ? createNodeSigner(nodeCrypto, secrets) : createWebCryptoSigner(secrets);
}

const SIGNATURE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** node:crypto implementation (exported for the cross-check test). */
export function createNodeSigner(node: typeof NodeCrypto, secrets: readonly string[]): Signer {
  const keys = secrets.map((secret) => Buffer.from(secret, 'utf8'));
  const mac = (key: Buffer, purpose: string, message: string) =>
    node.createHmac('sha256', key).update(`latchkey:${purpose}\0${message}`).digest();
  return {
    sign(purpose, message) {
      const [current] = keys;
      if (!current) return Promise.reject(new Error('no signing key'));
      return Promise.resolve(mac(current, purpose, message).toString('base64url'));
    },
    verify(purpose, message, signature) {
      // 43 base64url characters are exactly 32 bytes; Buffer's decoder is native.
      if (!SIGNATURE_SHAPE.test(signature)) return Promise.resolve({ valid: false });
      const given = Buffer.from(signature, 'base64url');
      for (let i = 0; i < keys.length; i++) {
        if (node.timingSafeEqual(mac(keys[i] as Buffer, purpose, message), given)) {
          return Promise.resolve({ valid: true, renew: i > 0 });
        }
      }
      return Promise.resolve({ valid: false });
    },
  };
}

/** WebCrypto implementation, for runtimes without node:crypto (exported for tests). */
export function createWebCryptoSigner(secrets: readonly string[]): Signer {
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

/**
 * Authenticated encryption of small secrets at rest (the OIDC provider's tokens, the
 * sign-in transaction cookie): AES-256-GCM under a key derived from each server secret
 * with HKDF-SHA-256, domain-separated by `purpose` (in the key and as associated data).
 * The first secret seals, all open, like the cookie signer. node:crypto only.
 */
export interface Sealer {
  /** base64url(iv ‖ ciphertext ‖ tag); a fresh 96-bit IV each time. */
  seal(plaintext: string): string;
  /** The plaintext, or null for anything forged, truncated or sealed for another purpose. */
  open(sealed: string): string | null;
}

export function createSealer(secrets: readonly string[], purpose: string): Sealer {
  const node = nodeCrypto;
  if (!node) throw new Error('createSealer needs node:crypto');
  const info = `latchkey:seal:${purpose}`;
  const keys = secrets.map((secret) =>
    Buffer.from(node.hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'latchkey', info, 32)),
  );
  const aad = Buffer.from(info, 'utf8');
  return {
    seal(plaintext) {
      const [key] = keys;
      if (!key) throw new Error('no sealing key');
      const iv = node.randomBytes(12);
      const cipher = node.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed) {
      if (!/^[A-Za-z0-9_-]+$/.test(sealed)) return null;
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < 12 + 16) return null;
      const iv = bytes.subarray(0, 12);
      const tag = bytes.subarray(bytes.length - 16);
      const body = bytes.subarray(12, bytes.length - 16);
      for (const key of keys) {
        try {
          const decipher = node.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
          decipher.setAAD(aad);
          decipher.setAuthTag(tag);
          return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
        } catch {
          // not this key (or forged): try the next
        }
      }
      return null;
    },
  };
}
