import type { Context, MiddlewareHandler } from 'hono';
import type { AuthResult, ConnectionInfo, Latchkey } from '@latchkey/core';

/** What `requireAuth` puts on the context for route handlers. */
export type LatchkeyVariables = { auth: Extract<AuthResult, { ok: true }> };

function connectionOf(c: Context): ConnectionInfo {
  // @hono/node-server puts the IncomingMessage on env; other runtimes have none.
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return { remoteAddress: env?.incoming?.socket?.remoteAddress ?? null };
}

/**
 * Hono bindings: `routes` answers everything under the auth base path,
 * `requireAuth` protects the app's own routes, `securityHeaders` adds the headers
 * of API.md to every response.
 */
export function latchkeyHono(latchkey: Latchkey) {
  const securityHeaders: MiddlewareHandler = async (c, next) => {
    await next();
    // Reassigning c.res makes Hono rebuild the response; only do it when the
    // headers could not be changed in place.
    const secured = latchkey.secure(c.res);
    if (secured !== c.res) c.res = secured;
  };
  const routes = (c: Context) => latchkey.handle(c.req.raw, connectionOf(c));
  const requireAuth: MiddlewareHandler<{ Variables: LatchkeyVariables }> = async (c, next) => {
    const auth = await latchkey.authenticate(c.req.raw, connectionOf(c));
    if (!auth.ok) return latchkey.errorResponse(auth.error);
    c.set('auth', auth);
    await next();
    for (const cookie of auth.setCookies) c.res.headers.append('Set-Cookie', cookie);
    // An answer about this user must not be kept by a shared or browser cache.
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
  return { securityHeaders, routes, requireAuth };
}
