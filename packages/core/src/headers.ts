import type { LatchkeyConfig } from './config.js';

/** The headers API.md requires on every response, from the resolved config. */
export function securityHeaders(config: LatchkeyConfig): Readonly<Record<string, string>> {
  return Object.freeze({
    'Content-Security-Policy': config.contentSecurityPolicy,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Strict-Transport-Security': `max-age=${config.hstsMaxAge}; includeSubDomains`,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-XSS-Protection': config.xssProtection,
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  });
}

/**
 * Adds the security headers to a response, keeping any the app set itself (an
 * app-specific CSP, say). Returns a new Response when the original's headers are
 * immutable (e.g. from `fetch`).
 */
export function withSecurityHeaders(
  response: Response,
  headers: Readonly<Record<string, string>>,
): Response {
  let target = response;
  try {
    for (const [name, value] of Object.entries(headers)) {
      if (!target.headers.has(name)) target.headers.set(name, value);
    }
  } catch {
    target = new Response(response.body, response);
    for (const [name, value] of Object.entries(headers)) {
      if (!target.headers.has(name)) target.headers.set(name, value);
    }
  }
  return target;
}
