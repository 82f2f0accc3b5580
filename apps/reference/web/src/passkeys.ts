import { LatchkeyError, type AuthClient } from '@latchkey/client';
import { createPasskeys, type Passkeys } from '@latchkey/client/passkeys';
import { auth } from './auth.js';

let made: { client: AuthClient; passkeys: Passkeys } | undefined;

/** The passkey calls over the page's one client (made once `connect()` has created it). */
export function passkeys(): Passkeys {
  if (made?.client !== auth) made = { client: auth, passkeys: createPasskeys(auth) };
  return made.passkeys;
}

/**
 * A sentence for a failed passkey ceremony: the server's refusal, or the browser's own failure
 * (the person cancelled, a timeout, no authenticator: a `NotAllowedError`).
 */
export function describePasskeyError(error: unknown, fallback: (e: unknown) => string): string {
  if (error instanceof LatchkeyError) {
    if (error.code === 'invalid_credentials') {
      return 'That passkey was not accepted. Try again, or sign in with your password.';
    }
    if (error.code === 'invalid_request' && /already registered/.test(error.message)) {
      return 'That passkey is already registered.';
    }
    return fallback(error);
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return 'The passkey request was cancelled or timed out.';
  }
  if (name === 'InvalidStateError') return 'A passkey on this device is already registered.';
  return 'This browser could not use a passkey.';
}
