import { errorBody, type LatchkeyError } from '../errors.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * What a route answers, before it is HTTP: a status, a JSON body (or none), extra
 * headers and Set-Cookie lines. Kept as a value so each server writes it its own
 * cheapest way: a Web Response from plain records, or Node's `writeHead`.
 */
export interface Reply {
  readonly status: number;
  /** Serialised as JSON; undefined for no body (204). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly cookies?: readonly string[] | undefined;
  /** A body sent as it is (an HTML page), with its own Content-Type in `headers`. */
  readonly raw?: string;
}

/**
 * A reply ready to write: every header (the security headers, `Cache-Control:
 * no-store`, the Content-Type) in one plain record, the cookies apart (Set-Cookie
 * cannot be folded into one value), the body already serialised.
 */
export interface AuthReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
  /** JSON text, or null for no body. */
  readonly body: string | null;
}

export const reply = (
  status: number,
  body?: unknown,
  cookies?: readonly string[],
  headers?: Readonly<Record<string, string>>,
): Reply => ({ status, body, cookies, headers });

/** An HTML page (the OIDC callback's): no script, so the default CSP holds. */
export const htmlReply = (status: number, html: string, cookies?: readonly string[]): Reply => ({
  status,
  raw: html,
  cookies,
  headers: { 'Content-Type': 'text/html; charset=utf-8' },
});

/** The one JSON error shape, with the error's own headers (e.g. `Retry-After`). */
export const errorReply = (error: LatchkeyError, cookies?: readonly string[]): Reply => ({
  status: error.status,
  body: errorBody(error),
  headers: error.headers,
  cookies,
});

/**
 * The fixed headers every auth answer carries (the security headers and
 * `Cache-Control: no-store`), with and without the JSON Content-Type, built once.
 */
export interface ReplyHeaders {
  readonly plain: Readonly<Record<string, string>>;
  readonly json: Readonly<Record<string, string>>;
}

export function replyHeaders(fixed: Readonly<Record<string, string>>): ReplyHeaders {
  return Object.freeze({
    plain: Object.freeze({ ...fixed }),
    json: Object.freeze({ ...fixed, 'Content-Type': JSON_CONTENT_TYPE }),
  });
}

/**
 * Serialises a route's reply with the fixed headers every auth answer carries.
 * The header record is frozen, and shared when the reply adds none: callers copy
 * before they add. (Measured on Node 20: a record copied from a frozen one and then
 * extended, as @hono/node-server does with Content-Length, writes about 3.5 µs
 * faster than one copied from a record that was itself built by copying.)
 */
export function finishReply(value: Reply, fixed: ReplyHeaders): AuthReply {
  const isRaw = value.raw !== undefined;
  const hasBody = !isRaw && value.body !== undefined;
  const base = hasBody ? fixed.json : fixed.plain;
  return {
    status: value.status,
    headers: value.headers ? Object.freeze({ ...base, ...value.headers }) : base,
    cookies: value.cookies ?? [],
    body: value.raw !== undefined ? value.raw : hasBody ? JSON.stringify(value.body) : null,
  };
}

/** Set on every Response Latchkey builds (shared across copies of the package). */
const BUILT_HERE = Symbol.for('latchkey.response');

/**
 * Whether Latchkey built this Response (`json`, `errorResponse`, `handle`): it carries
 * the security headers and its own `Cache-Control` already, so a binding adds none.
 */
export function isLatchkeyResponse(response: Response): boolean {
  return (response as Response & { [BUILT_HERE]?: true })[BUILT_HERE] === true;
}

/** The Web Response for a finished reply: a plain record when no cookie is set (cheap on Node). */
export function replyResponse(value: AuthReply): Response {
  let headers: HeadersInit = { ...value.headers };
  if (value.cookies.length > 0) {
    const all = new Headers(value.headers);
    for (const cookie of value.cookies) all.append('Set-Cookie', cookie);
    headers = all;
  }
  const response = new Response(value.body, { status: value.status, headers });
  (response as Response & { [BUILT_HERE]?: true })[BUILT_HERE] = true;
  return response;
}

/**
 * A JSON response whose headers are all known up front (`fixed` must include the
 * Content-Type). Without cookies a plain record goes in: no Headers object is
 * built per response, which is most of the cost of a small answer on Node. The
 * response is complete: change nothing on it afterwards.
 */
export function jsonResponse(
  status: number,
  body: unknown,
  fixed: Readonly<Record<string, string>>,
  setCookies: readonly string[] = [],
): Response {
  return replyResponse({ status, headers: fixed, cookies: setCookies, body: JSON.stringify(body) });
}
