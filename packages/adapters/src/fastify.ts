import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  onRequestHookHandler,
} from 'fastify';
import {
  errorBody,
  fail,
  securityHeaders as headersOf,
  type AuthResult,
  type Latchkey,
  type LatchkeyError,
} from '@latchkey/core';
import { connectionOf, isUnderBasePath, requestHead, type Authenticated } from './incoming.js';
import { answerNode } from './node-reply.js';
import { answeredByLatchkey, headAdditions } from './node-head.js';

export type { Authenticated } from './incoming.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAuth` from `latchkeyFastify`: the user and session of the request. */
    latchkey: Authenticated | null;
  }
}

/**
 * The authentication `requireAuth` put on the request. Throws when it did not run for
 * this route (a programming error: the route is not behind `requireAuth`).
 */
export function authOf(request: FastifyRequest): Authenticated {
  const auth = request.latchkey;
  if (!auth) throw new Error('authOf: requireAuth from latchkeyFastify did not run for this route');
  return auth;
}

/** The options the `routes` plugin accepts: Fastify's own `prefix`, nothing else. */
export interface LatchkeyRoutesOptions {
  /** Must lead to `basePath` (e.g. `/auth`, or none): the routes always live there. */
  prefix?: string;
}

/** The three pieces `latchkeyFastify` returns. */
export interface LatchkeyFastify {
  /**
   * A plugin with the auth routes: `app.register(routes)`. They are served under
   * `latchkey.config.basePath` with the raw body, before Fastify parses it. It
   * also declares `request.latchkey` on the instance it is registered on.
   */
  routes: FastifyPluginCallback<LatchkeyRoutesOptions>;
  /**
   * An `onRequest` (or `preHandler`) hook that protects routes: answers
   * `401`/`403`/`429`/`503` as the JSON error shape itself, else sets
   * `request.latchkey` (read it with `authOf(request)`).
   */
  requireAuth: onRequestAsyncHookHandler;
  /** An `onRequest` hook setting the security headers of API.md on every answer. */
  securityHeaders: onRequestHookHandler;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Fastify 5 bindings, the Fastify counterpart of `latchkeyHono`:
 *
 * ```ts
 * const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
 * app.addHook('onRequest', securityHeaders); // on every answer, 404s and errors too
 * await app.register(routes); // /auth/*: register, login, logout, session(s) …
 * app.get('/api/me', { onRequest: requireAuth }, (request) => ({ id: authOf(request).userId }));
 * ```
 *
 * The auth routes take over the request in their own `onRequest` hook (after the
 * app's `onRequest` hooks, before any body parsing): Latchkey reads the raw body
 * with its own limits and writes the answer itself, so Fastify's content-type
 * parsers, `onSend` hooks and error handler are not involved there, and the app's
 * parsers, 404 handler and error handler are left as they were. Don't put
 * `requireAuth` on the scope that holds them (signing in needs no session).
 *
 * `requireAuth` reads the Node request as it is (no Web Request is built): on
 * success it sets `request.latchkey`, adds `Set-Cookie` for a re-signed cookie and
 * `Cache-Control: no-store` (a route may set its own); on failure it answers the
 * JSON error with the security headers and `Cache-Control: no-store`. A fault it
 * did not expect (a bug, not a store outage: that is `503`) answers `500
 * internal_error`, without a stack, and is logged with `request.log.error`.
 * `securityHeaders` merges the headers into the head when it is written, by Fastify
 * or by a route that hijacked the reply (`reply.hijack()`), so answers written past
 * Fastify get them too; a header the app sets (`reply.header`, or `setHeader` on
 * the Node response) wins.
 */
export function latchkeyFastify(latchkey: Latchkey): LatchkeyFastify {
  const secure = Object.entries(headersOf(latchkey.config));
  const basePath = latchkey.config.basePath;

  const sendError = (reply: FastifyReply, error: LatchkeyError): FastifyReply => {
    for (const [name, value] of secure) if (!reply.hasHeader(name)) reply.header(name, value);
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    return reply
      .code(error.status)
      .header('cache-control', 'no-store')
      .type(JSON_CONTENT_TYPE)
      .send(JSON.stringify(errorBody(error)));
  };

  const requireAuth = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let auth: AuthResult;
    try {
      auth = await latchkey.authenticate(requestHead(request.raw), connectionOf(request.raw));
    } catch (error) {
      request.log.error({ err: error }, 'latchkeyFastify: authenticate failed');
      sendError(reply, fail('internal_error', { cause: error }));
      return;
    }
    if (!auth.ok) {
      sendError(reply, auth.error);
      return;
    }
    request.latchkey = auth;
    // A cookie re-signed under the current key must reach the browser.
    if (auth.setCookies.length > 0) reply.header('set-cookie', auth.setCookies);
    // An answer about this user must not be cached; a route may say otherwise.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  };

  const lowerSecure = secure.map(([name, value]) => [name, name.toLowerCase(), value] as const);
  const securityHeaders: onRequestHookHandler = (_request, reply, done) => {
    // Merged into the head when it is written (by Fastify, or by a route that hijacked
    // the reply), each unless the head or the response has it: setting them on the
    // Node response here instead sent every answer down writeHead's slow path.
    headAdditions(reply.raw).secure = lowerSecure;
    done();
  };

  /** Hands the request to Latchkey before Fastify reads its body. */
  const handOff = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack();
    answeredByLatchkey(reply.raw);
    // A route's failure is its JSON error; what is left is a response that cannot be written.
    answerNode(latchkey, request.raw, reply.raw).catch((error: unknown) => {
      request.log.error({ err: error }, 'latchkeyFastify: the auth answer failed');
      reply.raw.destroy();
    });
  };

  const authRoutes: FastifyPluginCallback = (instance, _options, done) => {
    const prefix = instance.prefix;
    if (prefix !== '' && !isUnderBasePath(basePath, prefix)) {
      done(
        new Error(
          `latchkeyFastify: the auth routes are registered under the prefix ${prefix} but ` +
            `latchkey's basePath is ${basePath}: register them without a prefix ` +
            `(app.register(routes)) or set basePath in createLatchkey`,
        ),
      );
      return;
    }
    const path = basePath.slice(prefix.length);
    // The hand-off is the route's own onRequest hook, which never calls on: the
    // reply is hijacked before Fastify would parse a body or run the handler.
    const route = { onRequest: handOff };
    // The base path itself and everything under it: Latchkey answers its own 404s.
    instance.all(path === '' ? '/' : path, route, handOff);
    instance.all(`${path}/*`, route, handOff);
    done();
  };

  const routes: FastifyPluginCallback<LatchkeyRoutesOptions> = (instance, options, done) => {
    if (!instance.hasRequestDecorator('latchkey')) instance.decorateRequest('latchkey', null);
    instance.register(authRoutes, options.prefix === undefined ? {} : { prefix: options.prefix });
    done();
  };
  // What fastify-plugin does: the decoration lands on the instance registering the
  // plugin; the routes themselves live in their own encapsulated child.
  Object.assign(routes, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'latchkey-routes',
  });

  return { routes, requireAuth, securityHeaders };
}
