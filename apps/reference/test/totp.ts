import { TOTP } from 'otpauth';
import type { Agent } from './harness.js';

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

/**
 * Turns on an authenticator app for the signed-in `agent` (session mode): enrols, then
 * confirms with a code. Returns the seed and the time steps spent, for `nextCode`.
 */
export async function enrolTotp(agent: Agent): Promise<{ secret: string; used: Set<string> }> {
  const secret = (await agent.unsafe('POST', '/auth/mfa/totp')).json.secret as string;
  const used = new Set<string>();
  const confirmed = await agent.unsafe('POST', '/auth/mfa/totp/confirm', {
    code: nextCode(secret, used),
  });
  if (confirmed.status !== 200) throw new Error(`TOTP confirm answered ${confirmed.status}`);
  return { secret, used };
}
