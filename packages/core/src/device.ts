import { base64url, fromBase64url, randomToken, type Signer } from './crypto.js';

/**
 * OWASP's device cookies ("Slow Down Online Guessing Attacks with Device Cookies"):
 * after a successful sign-in the browser gets a signed cookie naming the account
 * and a random nonce. Failed attempts from a browser that holds the account's
 * device cookie count against that nonce only; every other attempt counts against
 * the account. A stranger hammering an account locks out strangers, not its owner.
 */
export interface DeviceCookies {
  /** A new cookie value for this account (a fresh nonce each sign-in). */
  issue(userId: string): Promise<string>;
  /** The account and nonce of a genuine, unexpired device cookie; null otherwise. */
  read(value: string | null): Promise<{ userId: string; nonce: string } | null>;
}

/** A device cookie lives a year (API.md). */
export const DEVICE_COOKIE_MAX_AGE_MS = 365 * 24 * 3_600_000;

const SHAPE = /^([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{22})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

export function createDeviceCookies(signer: Signer, now: () => number): DeviceCookies {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    async issue(userId) {
      const payload = `${base64url(new TextEncoder().encode(userId))}.${randomToken(16)}.${now()}`;
      return `${payload}.${await signer.sign('device', payload)}`;
    },
    async read(value) {
      const match = value === null ? null : SHAPE.exec(value);
      if (!match) return null;
      const [, user, nonce, issued, signature] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
      ];
      const payload = `${user}.${nonce}.${issued}`;
      if (!(await signer.verify('device', payload, signature)).valid) return null;
      if (now() - Number(issued) > DEVICE_COOKIE_MAX_AGE_MS) return null;
      const bytes = fromBase64url(user);
      if (!bytes) return null;
      try {
        return { userId: decoder.decode(bytes), nonce };
      } catch {
        return null;
      }
    },
  };
}
