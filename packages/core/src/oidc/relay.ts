import type { OidcConfig } from '../config/oidc.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { RequestAuth } from '../http/authenticate.js';
import type { ConnectionInfo, RequestHead } from '../http/types.js';
import type { TokenVault } from './vault.js';

/** Hop-by-hop (RFC 9110 §7.6.1) and headers that must not cross the relay either way. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Never sent upstream: the browser's credentials (the upstream gets the provider's
 * token instead), the anti-forgery token, what only concerns this origin, and
 * `accept-encoding` (the relay passes bytes through; `identity` keeps them readable).
 */
const NOT_UPSTREAM = new Set([
  ...HOP_BY_HOP,
  'cookie',
  'authorization',
  'host',
  'content-length',
  'x-csrf-token',
  'origin',
  'referer',
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);
/** Never sent back: the upstream does not set cookies on this origin. */
const NOT_DOWNSTREAM = new Set([...HOP_BY_HOP, 'set-cookie', 'set-cookie2']);

export interface RelayDeps {
  upstream: NonNullable<OidcConfig['upstream']>;
  vault: TokenVault;
  authenticate: (request: RequestHead, connection?: ConnectionInfo) => Promise<RequestAuth>;
  /** The JSON error answer (security headers, no-store), with cookies to set. */
  errorResponse: (error: LatchkeyError, setCookies?: readonly string[]) => Response;
  /** Adds the security headers (and no-store unless the upstream said otherwise). */
  secure: (response: Response) => Response;
  clearedCredential: string;
}

/** Drops hop-by-hop headers, and any named in `Connection`. */
function copyHeaders(from: Headers, drop: ReadonlySet<string>): Headers {
  const listed = new Set(
    (from.get('connection') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const to = new Headers();
  for (const [name, value] of from) {
    if (drop.has(name) || listed.has(name) || name.startsWith('sec-')) continue;
    to.append(name, value);
  }
  return to;
}

/**
 * The API relay (`ANY <path>/*` → `<upstream>/*`): a signed-in session's request goes
 * to the upstream with `Authorization: Bearer <provider access token>`, refreshed when
 * due. The browser's cookie and authorization never go upstream; bodies stream both
 * ways, the request body under a size limit, the answer headers within a timeout.
 */
export function createRelay(deps: RelayDeps) {
  const { upstream } = deps;
  const base = upstream.url.pathname.replace(/\/+$/, '');

  return async (request: Request, connection?: ConnectionInfo): Promise<Response> => {
    const incoming = new URL(request.url, 'http://localhost');
    const { pathname } = incoming;
    if (pathname !== upstream.path && !pathname.startsWith(`${upstream.path}/`)) {
      return deps.errorResponse(fail('not_found'));
    }
    // An encoded slash or backslash could become a separator (and `..`) upstream.
    if (/%2f|%5c/i.test(pathname)) return deps.errorResponse(fail('not_found'));
    const target = new URL(upstream.url.origin);
    target.pathname = base + pathname.slice(upstream.path.length);
    target.search = incoming.search;
    // No way out of the upstream's base path (`..`, encoded or not, is resolved by URL).
    if (target.pathname !== base && !target.pathname.startsWith(`${base}/`)) {
      return deps.errorResponse(fail('not_found'));
    }

    const auth = await deps.authenticate(request, connection);
    if (!auth.ok) return deps.errorResponse(auth.error);

    const declared = request.headers.get('content-length');
    if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > upstream.bodyLimit)) {
      return deps.errorResponse(
        fail(/^\d+$/.test(declared) ? 'payload_too_large' : 'invalid_request'),
      );
    }

    const access = await deps.vault.access({ id: auth.sessionId, userId: auth.userId });
    if (!access.ok) {
      return deps.errorResponse(access.error, access.ended ? [deps.clearedCredential] : []);
    }

    const headers = copyHeaders(request.headers, NOT_UPSTREAM);
    headers.set('authorization', `Bearer ${access.accessToken}`);
    headers.set('accept-encoding', 'identity');

    let tooLarge = false;
    let body: ReadableStream<Uint8Array> | null = null;
    if (request.body && request.method !== 'GET' && request.method !== 'HEAD') {
      let size = 0;
      body = request.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.byteLength;
            if (size > upstream.bodyLimit) {
              tooLarge = true;
              controller.error(new Error('body over the relay limit'));
              return;
            }
            controller.enqueue(chunk);
          },
        }),
      );
    }

    let answer: Response;
    try {
      // `duplex` (a streamed request body) is not in TypeScript's DOM RequestInit yet.
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(upstream.timeoutMs),
        ...(body ? { duplex: 'half' } : {}),
      };
      answer = await fetch(target, init);
    } catch (error) {
      if (tooLarge) return deps.errorResponse(fail('payload_too_large'));
      return deps.errorResponse(fail('upstream_unavailable', { cause: error }));
    }
    const out = copyHeaders(answer.headers, NOT_DOWNSTREAM);
    for (const cookie of auth.setCookies) out.append('set-cookie', cookie);
    return deps.secure(
      new Response(answer.body, {
        status: answer.status,
        statusText: answer.statusText,
        headers: out,
      }),
    );
  };
}
