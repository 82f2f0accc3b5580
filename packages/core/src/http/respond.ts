import { errorBody, type LatchkeyError } from '../errors.js';

// Every Response is built with a Headers instance in its init, never mutated from a
// plain object: some runtimes' Response shims (e.g. @hono/node-server's) rebuild
// the response from its original init and would drop later header changes.
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  all.set('Content-Type', JSON_CONTENT_TYPE);
  return new Response(JSON.stringify(body), { status, headers: all });
}

export function noContent(headers?: HeadersInit): Response {
  return new Response(null, { status: 204, headers: new Headers(headers) });
}

/** The one JSON error shape, for every failure. */
export function errorResponse(error: LatchkeyError): Response {
  return json(error.status, errorBody(error), error.headers);
}

/**
 * A JSON response whose headers are all known up front (`fixed` must include the
 * Content-Type). Without cookies a plain record goes in: no Headers object is
 * built per response, which is most of the cost of a small answer on Node. The response is complete: change nothing on it afterwards.
 */
export function jsonResponse(
  status: number,
  body: unknown,
  fixed: Readonly<Record<string, string>>,
  setCookies: readonly string[] = [],
): Response {
  // A copy: a runtime may add to the record it is given (@hono/node-server sets
  // Content-Length on it).
  let headers: HeadersInit = { ...fixed };
  if (setCookies.length > 0) {
    const all = new Headers(fixed);
    for (const cookie of setCookies) all.append('Set-Cookie', cookie);
    headers = all;
  }
  return new Response(JSON.stringify(body), { status, headers });
}
