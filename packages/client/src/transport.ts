/**
 * The transport: sends a request to the server, with the credential attached only when the
 * request goes to the server's own origin, retries once when the credential turns out stale,
 * and turns failures into `LatchkeyError`. It knows nothing of the modes: a `Credential`
 * (the CSRF header, or the bearer token) says what to attach and when to retry.
 */
import { errorCode, LatchkeyError, sessionOver } from './errors.js';

/** What the transport attaches to requests for the server's own origin. */
export interface Credential {
  /** Whether a request with this (upper-case) method carries it. */
  covers(method: string): boolean;
  /** Its value now (`undefined`: none, send without); `locked`: the caller holds the refresh lock. */
  value(locked: boolean): Promise<string | undefined>;
  /** Puts `value` on the request's headers. */
  put(headers: Headers, value: string): void;
  /** What to do with the answer to a request that carried `sent` (see `Verdict`). */
  check(response: Response, sent: string | undefined, locked: boolean): Promise<Verdict>;
}

/**
 * `{ retry }`: the credential was stale and is renewed, send the request once more with this
 * value (`undefined`: without one). `'answer'`: hand the answer back. `'keep'`: hand it back,
 * and do not let a `401` in it sign out (the renewal already settled that, or could not).
 */
export type Verdict = { retry: string | undefined } | 'answer' | 'keep';

/** How to send: with the credential (`auth`), and whether the caller holds the refresh lock. */
export interface Via {
  /** @default true */
  auth?: boolean;
  /** @default false */
  locked?: boolean;
}

export interface TransportOptions {
  /** Origin and/or path prefix of the server, as given (trailing slashes are dropped). */
  baseUrl: string;
  /** Where the server mounts its auth routes, under `baseUrl`. */
  basePath: string;
  fetch: typeof fetch;
  /** The mode's credential (asked for on every request: the mode is built after the transport). */
  credential: () => Credential;
  /** An answer said the session is over (`401 unauthenticated`, `session_expired`, …). */
  ended: () => void;
  /** The app's `onReauthRequired`: asked on `401 reauth_required`; `true` retries once. */
  reauth?: (() => Promise<boolean>) | undefined;
}

export interface Transport {
  /** `fetch` with `credentials: 'same-origin'`; a failure to connect becomes `network_error`. */
  raw(input: RequestInfo | URL, init: RequestInit): Promise<Response>;
  /** One request, the credential attached if `auth` and the destination is ours. */
  send(input: RequestInfo | URL, init: RequestInit, via?: Via): Promise<Response>;
  /** An auth route (`path` under `basePath`): JSON in, an OK answer out, errors thrown. */
  call(method: string, path: string, body?: unknown, via?: Via): Promise<Response>;
  /** The URL of an auth route, for `raw`. */
  route(path: string): string;
}

/** Stands in for the page's origin where there is no page (never a real host: RFC 6761). */
const NO_PAGE = 'http://latchkey.invalid';

/** `url` resolved against `base`; `undefined` if it does not parse. */
const resolve = (url: string, base: string | URL) => {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
};

/**
 * Where a request goes, decided once: the URL resolved here is the one sent, so the origin
 * checked is the origin fetched (a string is never re-parsed by the browser: `/\evil.example`
 * or `/<tab>/evil.example` are other origins, not paths). `ours`: it is the server's own
 * origin (`baseUrl`'s, or the page's), so credentials may go with it; a URL that does not
 * parse is not ours.
 */
export function destination(
  input: RequestInfo | URL,
  baseUrl: string,
): { target: RequestInfo | URL; ours: boolean } {
  // The page's address (a placeholder without a page: tests, server rendering), and the base
  // fetch resolves against: the document's base URL, which a <base> element may move away.
  const page = globalThis.location?.href ?? resolve(baseUrl, NO_PAGE) ?? NO_PAGE;
  // A Request (of this realm or another) is sent as it is: its URL is absolute already.
  const request = typeof input === 'object' && typeof (input as Request).url === 'string';
  const href: unknown =
    typeof input === 'string' ? input : request ? (input as Request).url : (input as URL).href;
  const url =
    typeof href === 'string' ? resolve(href, globalThis.document?.baseURI ?? page) : undefined;
  const origin = resolve(baseUrl || '/', page)?.origin;
  // An opaque origin ('null': file:, data:, custom schemes) is nobody's own.
  const ours = url !== undefined && url.origin === origin && origin !== 'null';
  if (!url || request) return { target: input, ours };
  // No page to resolve against: a path on the server's own origin stays a path.
  return { target: url.origin === NO_PAGE ? url.href.slice(NO_PAGE.length) : url.href, ours };
}

export function createTransport(options: TransportOptions): Transport {
  const { basePath, ended } = options;
  // One or more `/segment`s, as the server accepts them; never `//…`, which names a host.
  if (!/^(\/[\w-]+)+$/.test(basePath)) {
    throw new TypeError(`basePath: expected a path like /auth, got ${JSON.stringify(basePath)}`);
  }
  // Without a trailing slash: `baseUrl + '/auth/…'` must stay one path (`/` + `/auth` would be
  // the protocol-relative URL of a host named `auth`).
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  const raw = async (input: RequestInfo | URL, init: RequestInit) => {
    try {
      return await options.fetch(input, { ...init, credentials: 'same-origin' });
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'AbortError') throw error;
      throw new LatchkeyError('network_error', 0, 'Could not reach the server.', { cause: error });
    }
  };

  /** A string path starting with `/` is under `baseUrl`; the credential goes only to our origin. */
  const send = async (
    input: RequestInfo | URL,
    init: RequestInit,
    { auth = true, locked = false }: Via = {},
  ) => {
    if (typeof input === 'string' && input.startsWith('/')) input = baseUrl + input;
    const where = destination(input, baseUrl);
    input = where.target;
    const request = input instanceof Request ? input : undefined;
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const credential = options.credential();
    const covered = auth && where.ours && credential.covers(method);
    const replayable = !(init.body instanceof ReadableStream);
    const replay = covered && request ? request.clone() : input;
    const attempt = (target: RequestInfo | URL, value: string | undefined) => {
      const headers = new Headers(init.headers ?? request?.headers);
      if (value) credential.put(headers, value);
      return raw(target, { ...init, headers });
    };
    const sent = covered ? await credential.value(locked) : undefined;
    let response = await attempt(input, sent);
    if (covered && replayable) {
      const verdict = await credential.check(response, sent, locked);
      if (verdict === 'keep') return response;
      if (verdict !== 'answer') response = await attempt(replay, verdict.retry);
    }
    if (response.status === 401 && sessionOver(401, await errorCode(response))) ended();
    return response;
  };

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    via?: Via,
    again = true,
  ): Promise<Response> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await send(basePath + path, init, via);
    if (response.ok) return response;
    const error = await LatchkeyError.fromResponse(response);
    // A sensitive action wants a fresh proof: the app asks the person, then it is sent once more.
    if (again && error.code === 'reauth_required' && (await options.reauth?.())) {
      return call(method, path, body, via, false);
    }
    throw error;
  };

  return { raw, send, call, route: (path) => baseUrl + basePath + path };
}
