import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import {
  isLatchkeyResponse,
  replyResponse,
  securityHeaders as securityHeadersOf,
  type AuthRequest,
  type AuthResult,
  type ConnectionInfo,
  type Latchkey,
  type RequestHead,
} from '@latchkey/core';
import { LazyBodyRequest, requestHead } from './incoming.js';

/** What `requireAuth` puts on the context for route handlers. */
export type LatchkeyVariables = { auth: Extract<AuthResult, { ok: true }> };

/** The Node objects @hono/node-server puts on `c.env`; other runtimes have none. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}
const nodeOf = (c: Context): NodeBindings => (c.env ?? {}) as NodeBindings;

function connectionOf(c: Context): ConnectionInfo {
  return { remoteAddress: nodeOf(c).incoming?.socket.remoteAddress ?? null };
}

/**
 * The request head: on Node, read from the IncomingMessage, since reading
 * `c.req.raw.headers` makes @hono/node-server build a full Web Request.
 */
function headOf(c: Context): RequestHead {
  const incoming = nodeOf(c).incoming;
  return incoming ? requestHead(incoming) : c.req.raw;
}

function authRequestOf(c: Context): AuthRequest {
  const incoming = nodeOf(c).incoming;
  if (!incoming) return c.req.raw;
  return new LazyBodyRequest(requestHead(incoming), c.req.url, () => c.req.raw.body);
}

/**
 * Hono bindings: `routes` answers everything under the auth base path,
 * `requireAuth` protects the app's own routes, `securityHeaders` adds the headers
 * of API.md to every response.
 */
export function latchkeyHono(latchkey: Latchkey) {
  const headers = Object.entries(securityHeadersOf(latchkey.config));
  const lowerHeaders = headers.map(([name, value]) => [name, name.toLowerCase(), value] as const);

  /** On Node: the headers go on the ServerResponse (see securityHeaders). */
  const secureOutgoing = (c: Context, outgoing: ServerResponse): void => {
    if (outgoing.headersSent || isLatchkeyResponse(c.res)) return;
    // One list of the names already set instead of a hasHeader() per header.
    const taken = outgoing.getHeaderNames();
    for (const [name, lower, value] of lowerHeaders) {
      if (!taken.includes(lower)) outgoing.setHeader(name, value);
    }
  };
  /** Elsewhere: a Response whose headers are immutable is rebuilt, only then. */
  const secureResponse = (c: Context): void => {
    const secured = latchkey.secure(c.res);
    if (secured !== c.res) c.res = secured;
  };

  // On Node the headers go on the ServerResponse, which @hono/node-server writes after
  // the app is done: writeHead() merges them under the Response's own, so a header the
  // app set still wins, and no Response is rebuilt. Not for Latchkey's own answers (the
  // auth routes, and the app's answers built with latchkey.json() or errorResponse()):
  // they have them, and a header set here would make writeHead() re-validate every one
  // of theirs. (Merging them in at writeHead() time instead, as the Fastify binding
  // does, measured slower here: the reference app's GET /api/notes went from 0.39x to
  // 0.31x bare node:http.) Not an async function: one then() per request allocates
  // less than an async function's suspension around `await next()`.
  const securityHeaders: MiddlewareHandler = (c, next) => {
    const outgoing = nodeOf(c).outgoing;
    return outgoing
      ? next().then(() => secureOutgoing(c, outgoing))
      : next().then(() => secureResponse(c));
  };

  // A marked Response from plain records (the form @hono/node-server writes without
  // copying): the security headers are in it, so the middleware above adds none.
  const routes = async (c: Context) =>
    replyResponse(await latchkey.answer(authRequestOf(c), connectionOf(c)));

  const requireAuth: MiddlewareHandler<{ Variables: LatchkeyVariables }> = async (c, next) => {
    const auth = await latchkey.authenticate(headOf(c), connectionOf(c));
    if (!auth.ok) return latchkey.errorResponse(auth.error);
    c.set('auth', auth);
    const outgoing = nodeOf(c).outgoing;
    // An answer about this user must not be kept by a shared or browser cache.
    if (outgoing && auth.setCookies.length === 0) {
      await next();
      // Merged under the Response's own headers by writeHead(), as above. An answer
      // built with latchkey.json() says no-store (or the app's cacheControl) already.
      if (!outgoing.headersSent && !isLatchkeyResponse(c.res)) {
        outgoing.setHeader('Cache-Control', 'no-store');
      }
      return;
    }
    await next();
    for (const cookie of auth.setCookies) c.res.headers.append('Set-Cookie', cookie);
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
  return { securityHeaders, routes, requireAuth };
}
