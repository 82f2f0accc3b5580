import { TOTP } from 'otpauth';

/** The authenticator app's side of RFC 6238 as the server configures it (SHA-1, 6 digits, 30 s). */
export const totp = (secret: string) =>
  new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 });

/**
 * A code for a time step not used yet (`used` remembers them: the server accepts each
 * step once). Waiting is never needed: one step of drift is accepted.
 */
export function nextCode(secret: string, used: Set<string>): string {
  const now = Date.now();
  for (const at of [now, now + 30_000]) {
    const code = totp(secret).generate({ timestamp: at });
    if (!used.has(`${Math.floor(at / 30_000)}`)) {
      used.add(`${Math.floor(at / 30_000)}`);
      return code;
    }
  }
  throw new Error('both usable steps spent');
}
