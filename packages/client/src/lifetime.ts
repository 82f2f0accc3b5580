/**
 * How long a fresh access token lives, measured on the server's clock only, so that a browser
 * clock that is off cannot cause early renewals or refresh loops.
 */
import type { TokenResponse } from '@latchkey/wire';

/** No access token lives longer (the server caps `LATCHKEY_ACCESS_TTL` there too), in ms. */
export const MAX_LIFE = 3_600_000;

/** The claims a client may look at (never trusted: the server checks them). */
export function claims(jwt: string): { sid?: string; iat?: number; exp?: number } {
  try {
    const part = (jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)) as { sid?: string; iat?: number; exp?: number };
  } catch {
    return {};
  }
}

/**
 * The lifetime of the token in `body`, in ms: `accessTokenExpiresAt` minus the response's `Date`
 * (whole seconds, so one second is taken off), bounded by the token's own `exp - iat`, and
 * between one second and `MAX_LIFE`. The browser's clock never enters into it.
 */
export function lifetime(response: Response, body: TokenResponse): number {
  const { iat, exp } = claims(body.accessToken);
  const own = iat !== undefined && exp !== undefined ? (exp - iat - 1) * 1000 : MAX_LIFE;
  const dated =
    Date.parse(body.accessTokenExpiresAt) - Date.parse(response.headers.get('Date') ?? '') - 1000;
  return Math.min(Math.max(dated > 0 && dated <= own ? dated : own, 1000), MAX_LIFE);
}
