import type { LatchkeyConfig } from '../config.js';
import { serializeCookie } from '../cookies.js';
import { DEVICE_COOKIE_MAX_AGE_MS } from '../device.js';
import { DEVICE_COOKIE, MFA_COOKIE, REFRESH_COOKIE, SESSION_COOKIE } from '../wire.js';

/** The Set-Cookie lines the server writes; every one `__Host-Http-`. */
export interface CookieWriter {
  /** The credential cookie's name: the session (session mode) or refresh token (token mode). */
  readonly credentialName: string;
  credential(value: string, maxAgeMs: number): string;
  /** Deletes the credential cookie (`Max-Age=0`). */
  readonly clearedCredential: string;
  device(value: string): string;
  /** The pending two-step sign-in (`__Host-Http-mfa`), read only by `POST /auth/login/mfa`. */
  pendingSignIn(value: string, maxAgeMs: number): string;
  /** Deletes the pending sign-in cookie (`Max-Age=0`). */
  readonly clearedPendingSignIn: string;
}

export function createCookieWriter(config: LatchkeyConfig): CookieWriter {
  // Host-only, Path=/: a sibling subdomain can neither overwrite these nor shadow
  // them with a longer Path.
  const attributes = { path: '/', httpOnly: true, secure: true, sameSite: config.unsafe.sameSite };
  const credentialName = config.mode === 'token' ? REFRESH_COOKIE : SESSION_COOKIE;
  const credential = (value: string, maxAgeMs: number) =>
    serializeCookie(credentialName, value, {
      ...attributes,
      maxAge: value === '' ? 0 : Math.ceil(maxAgeMs / 1000),
    });
  return {
    credentialName,
    credential,
    clearedCredential: credential('', 0),
    // Always Strict: the second step is a same-site request from the sign-in page.
    pendingSignIn: (value, maxAgeMs) =>
      serializeCookie(MFA_COOKIE, value, {
        ...attributes,
        sameSite: 'Strict',
        maxAge: Math.ceil(maxAgeMs / 1000),
      }),
    clearedPendingSignIn: serializeCookie(MFA_COOKIE, '', {
      ...attributes,
      sameSite: 'Strict',
      maxAge: 0,
    }),
    device: (value) =>
      serializeCookie(DEVICE_COOKIE, value, {
        ...attributes,
        maxAge: DEVICE_COOKIE_MAX_AGE_MS / 1000,
      }),
  };
}
