import type { LatchkeyConfig } from './config.js';
import type { RequestHead } from './request-head.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * The cross-origin check of API.md, for unsafe requests: refuse when the browser
 * says the request came from another site or origin (Sec-Fetch-Site), or when it
 * names an Origin that is not allowed. Requests with neither header come from
 * non-browser clients, which cannot be driven by a cross-site page.
 * Returns the reason for a refusal, or null when the request passes.
 */
export function crossOriginRefusal(request: RequestHead, config: LatchkeyConfig): string | null {
  if (!isUnsafeMethod(request.method) || config.unsafe.disableCrossOriginCheck) return null;
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return `sec-fetch-site:${site}`;
  const origin = request.headers.get('origin');
  if (origin !== null && !config.allowedOrigins.has(origin)) return 'origin';
  return null;
}
