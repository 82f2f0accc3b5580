import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { fail, type AuthResult, type Latchkey } from '@latchkey/core';
import {
  connectionOf,
  createNodeResponder,
  isUnderBasePath,
  requestHead,
  type Authenticated,
} from './incoming.js';
import { answerNode } from './node-reply.js';

export type { Authenticated } from './incoming.js';

declare global {
  // Express's own extension point for what middleware puts in `res.locals`.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by `requireAuth` from `latchkeyExpress`: the user and session of the request. */
      latchkey?: Authenticated;
    }
  }
}

/**
 * The authentication `requireAuth` put in `res.locals.latchkey`. Throws when it did not
 * run for this route (a programming error: the route is not behind `requireAuth`).
 */
export function authOf(res: Response): Authenticated {
  const auth = res.locals.latchkey;
  if (!auth) throw new Error('authOf: requireAuth from latchkeyExpress did not run for this route');
  return auth;
}

/** The three pieces `latchkeyExpress` returns. */
export interface LatchkeyExpress {
  /**
   * The auth routes: `app.use('/auth', routes)` (or `app.use(routes)`; other paths
   * are passed on). Mount them before any body parser: they read the raw body.
   */
  routes: RequestHandler;
  /**
   * Protects the routes after it: answers `401`/`403`/`429`/`503` as the JSON error
   * shape itself, else puts the result in `res.locals.latchkey` (read it with `authOf(res)`).
   */
  requireAuth: RequestHandler;
  /** Sets the security headers of API.md on every answer: `app.use(securityHeaders)` first. */
  securityHeaders: RequestHandler;
}

const BODYLESS = new Set(['GET', 'HEAD']);

/**
 * Express 5 bindings, the Express counterpart of `latchkeyHono`:
 *
 * ```ts
 * const { routes, requireAuth, securityHeaders } = latchkeyExpress(latchkey);
 * app.use(securityHeaders); // CSP, HSTS, frame blocking … on every answer
 * app.use('/auth', routes); // before express.json(): the auth routes read the raw body
 * app.use(express.json());
 * app.get('/api/me', requireAuth, (req, res) => res.json({ id: authOf(res).userId }));
 * ```
 *
 * `requireAuth` reads Express's request as it is (no Web Request is built). On
 * success it sets `res.locals.latchkey` (Express's place for what middleware found
 * out about the request; a new property on `req` costs microseconds in Express 5,
 * whose requests have their prototype swapped), appends `Set-Cookie` for a
 * re-signed cookie and sets `Cache-Control: no-store` (a route may set its own). On
 * failure it answers the JSON error with the security headers and `Cache-Control:
 * no-store`. A fault it did not expect (a bug, not a store outage: that is `503`)
 * answers `500 internal_error`, without a stack, and is written to `console.error`.
 * `securityHeaders` keeps any of those headers the app sets itself. Express's own
 * 404 and error pages (finalhandler) replace the Content-Security-Policy with
 * their stricter `default-src 'none'`; the other headers stay. The auth routes are
 * under `latchkey.config.basePath` (`/auth` by default) and are answered on
 * Express's own request and response; mounting them elsewhere is refused with an
 * error naming both paths.
 */
export function latchkeyExpress(latchkey: Latchkey): LatchkeyExpress {
  const responder = createNodeResponder(latchkey);
  const basePath = latchkey.config.basePath;

  const routes: RequestHandler = (req, res, next) => {
    // Express strips the mount path from req.url; originalUrl is the path the
    // client asked for, which is what Latchkey routes on.
    const url = req.originalUrl;
    if (!isUnderBasePath(url, basePath)) {
      if (req.baseUrl === '') {
        next();
        return;
      }
      next(
        new Error(
          `latchkeyExpress: the auth routes are mounted at ${req.baseUrl} but latchkey's ` +
            `basePath is ${basePath}: mount them with app.use('${basePath}', routes) ` +
            `or set basePath in createLatchkey`,
        ),
      );
      return;
    }
    if ((req.readableDidRead || req.readableEnded) && !BODYLESS.has(req.method)) {
      // A body parser ran first and consumed the stream: fail now rather than
      // hand Latchkey an empty or half-read body.
      next(
        new Error(
          `latchkeyExpress: the request body was already read by a body parser ` +
            `(express.json() or similar) before the auth routes: mount ` +
            `app.use('${basePath}', routes) before any body parser`,
        ),
      );
      return;
    }
    // answerNode never rejects for a route's failure (that is its JSON error); what
    // is left, a response that cannot be written, goes to Express.
    answerNode(latchkey, req, res, url).catch(next);
  };

  const requireAuth: RequestHandler = async (req, res, next) => {
    let auth: AuthResult;
    try {
      auth = await latchkey.authenticate(requestHead(req), connectionOf(req));
    } catch (error) {
      internalError(res, error);
      return;
    }
    if (!auth.ok) {
      responder.sendError(res, auth.error);
      return;
    }
    res.locals.latchkey = auth;
    // A cookie re-signed under the current key must reach the browser.
    if (auth.setCookies.length > 0) res.append('Set-Cookie', auth.setCookies);
    // An answer about this user must not be cached; a route may say otherwise.
    if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
    next();
  };

  const internalError = (res: Response, error: unknown) => {
    console.error('latchkeyExpress: authenticate failed', error);
    responder.sendError(res, fail('internal_error', { cause: error }));
  };

  const securityHeaders: RequestHandler = (_req: Request, res: Response, next: NextFunction) => {
    responder.securityHeaders(res);
    next();
  };

  return { routes, requireAuth, securityHeaders };
}
