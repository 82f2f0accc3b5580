import { errorBody, type LatchkeyError } from '../errors.js';

// Every Response is built with a Headers instance in its init, never mutated from a
// plain object: some runtimes' Response shims (e.g. @hono/node-server's) rebuild
// the response from its original init and would drop later header changes.
export function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  all.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(body), { status, headers: all });
}

export function noContent(headers?: HeadersInit): Response {
  return new Response(null, { status: 204, headers: new Headers(headers) });
}

/** The one JSON error shape, for every failure. */
export function errorResponse(error: LatchkeyError): Response {
  return json(error.status, errorBody(error), error.headers);
}
