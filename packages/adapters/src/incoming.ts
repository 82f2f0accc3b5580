import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  errorBody,
  securityHeaders,
  type AuthRequest,
  type AuthResult,
  type ConnectionInfo,
  type Latchkey,
  type LatchkeyError,
  type RequestHead,
} from '@latchkey/core';

/**
 * What `authenticate()` needs of a Node request, read straight from its parsed
 * headers: building a Web Request per call costs more than the whole session check.
 */
export function requestHead(incoming: IncomingMessage): RequestHead {
  const headers = incoming.headers;
  return {
    method: incoming.method ?? 'GET',
    headers: {
      get(name: string): string | null {
        // Node's header names are lower case; Headers.get takes any case
        // (Latchkey asks for `X-CSRF-Token`).
        const value = headers[name] ?? headers[name.toLowerCase()];
        // Node joins repeated headers itself, except Set-Cookie (an array).
        if (value === undefined) return null;
        return typeof value === 'string' ? value : value.join(', ');
      },
    },
  };
}

/**
 * The auth routes' view of a request read from Node's parsed head, with the body
 * stream made on first read (only the POST routes read one). A class, not an object
 * literal with a `get body()`: V8 keeps a literal holding an accessor in slow
 * (dictionary) mode, and every read of `method`, `url` and `headers` down the routes
 * paid for it (measured in-process: GET /auth/session through Hono 48 → 14 µs).
 */
export class LazyBodyRequest implements AuthRequest {
  readonly method: string;
  readonly headers: RequestHead['headers'];
  #open: () => ReadableStream<Uint8Array> | null;
  #body: ReadableStream<Uint8Array> | null | undefined;

  constructor(
    head: RequestHead,
    readonly url: string,
    open: () => ReadableStream<Uint8Array> | null,
  ) {
    this.method = head.method;
    this.headers = head.headers;
    this.#open = open;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body === undefined) this.#body = this.#open();
    return this.#body;
  }
}

export function connectionOf(incoming: IncomingMessage): ConnectionInfo {
  return { remoteAddress: incoming.socket.remoteAddress ?? null };
}

/** Whether a path (with or without a query) is under the auth routes' base path. */
export function isUnderBasePath(url: string, basePath: string): boolean {
  if (!url.startsWith(basePath)) return false;
  const next = url.charCodeAt(basePath.length);
  // End of string, '/', or '?'.
  return Number.isNaN(next) || next === 0x2f || next === 0x3f;
}

export type Authenticated = Extract<AuthResult, { ok: true }>;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** An error answer is never stored, whatever the app said. */
const NO_STORE = { value: 'no-store', appWins: false } as const;

export interface JsonInit {
  status?: number;
  /** The request's authentication: its `setCookies` (a re-signed cookie) are sent. */
  auth?: Authenticated;
  /**
   * Default `no-store` (an answer about a user must not be cached), or the
   * `Cache-Control` the app set on the response before.
   */
  cacheControl?: string;
}

/**
 * Writing answers to a Node `ServerResponse` with the security headers of API.md,
 * without going through a Web Response. Shared by the node:http and Express bindings.
 * A security header the app set on the response before (its own CSP, say) is kept,
 * and so is its `Cache-Control` on a successful answer (`json`); cookies it set are
 * sent beside ours. The body's own headers (Content-Type, Content-Length), an
 * error's headers (Retry-After) and `no-store` on an error are always ours.
 */
export function createNodeResponder(latchkey: Latchkey) {
  const secure = Object.entries(securityHeaders(latchkey.config));
  const lowerSecure = secure.map(([name, value]) => [name, name.toLowerCase(), value] as const);
  // Headers go to writeHead as one flat [name, value, ...] list, copied from this
  // prebuilt one. Measured in-process (Node 20): a record spread from a prebuilt one
  // and then extended cost about 4 µs more per answer than the flat list, a fifth of
  // the whole authenticated request; Node walks both forms with the same checks.
  const jsonBase: readonly string[] = [...secure.flat(), 'Content-Type', JSON_CONTENT_TYPE];

  const send = (
    res: ServerResponse,
    status: number,
    text: string,
    cache: { value: string; appWins: boolean },
    extra?: Readonly<Record<string, string>>,
    setCookies?: readonly string[],
  ): void => {
    // Lower-case names; none on the common path, where the prebuilt list is copied.
    const taken = res.getHeaderNames();
    let headers: (string | string[])[];
    if (taken.length === 0) {
      headers = jsonBase.slice();
    } else {
      headers = ['Content-Type', JSON_CONTENT_TYPE];
      for (const [name, lower, value] of lowerSecure) {
        if (!taken.includes(lower)) headers.push(name, value);
      }
    }
    if (!(cache.appWins && taken.includes('cache-control'))) {
      headers.push('Cache-Control', cache.value);
    }
    if (extra) for (const name in extra) headers.push(name, extra[name] as string);
    headers.push('Content-Length', String(Buffer.byteLength(text)));
    if (setCookies && setCookies.length > 0) {
      headers.push(
        'Set-Cookie',
        taken.includes('set-cookie')
          ? [...asList(res.getHeader('set-cookie')), ...setCookies]
          : [...setCookies],
      );
    }
    // Headers passed to writeHead replace those set before with the same name; the
    // app's others are sent as they are.
    res.writeHead(status, headers as unknown as string[]);
    res.end(text);
  };

  return {
    /** A JSON answer with the security headers and `Cache-Control: no-store`. */
    json(res: ServerResponse, body: unknown, init: JsonInit = {}): void {
      send(
        res,
        init.status ?? 200,
        JSON.stringify(body),
        { value: init.cacheControl ?? 'no-store', appWins: init.cacheControl === undefined },
        undefined,
        init.auth?.setCookies,
      );
    },
    /** The one JSON error shape, with the error's own headers (e.g. `Retry-After`). */
    sendError(res: ServerResponse, error: LatchkeyError): void {
      send(res, error.status, JSON.stringify(errorBody(error)), NO_STORE, error.headers);
    },
    /** Sets each security header the response does not have yet. */
    securityHeaders(res: ServerResponse): void {
      // One list of the names already set (lower case; usually none, or X-Powered-By)
      // instead of a hasHeader() per header: this runs on every answer.
      const taken = res.getHeaderNames();
      for (const [name, lower, value] of lowerSecure) {
        if (!taken.includes(lower)) res.setHeader(name, value);
      }
    },
  };
}

function asList(value: number | string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}
