import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Latchkey } from '@latchkey/core';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { describe, expect, it } from 'vitest';
import {
  describeBinding,
  expectSecured,
  OWN_CSP,
  register,
  serveForTest,
  testLatchkey,
  type Served,
} from '../test/binding-suite.js';
import { authOf, latchkeyExpress } from './express.js';

async function listen(app: Express): Promise<Served> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The app of the binding suite, mounted as the README shows. */
function suiteApp(latchkey: Latchkey): Express {
  const { routes, requireAuth, securityHeaders } = latchkeyExpress(latchkey);
  const app = express();
  app.use(securityHeaders);
  app.use('/auth', routes);
  app.use(express.json());
  app.get('/api/me', requireAuth, (_req, res) => {
    res.json({ id: authOf(res).userId });
  });
  app.post('/api/me', requireAuth, (_req, res) => {
    res.json({ id: authOf(res).userId });
  });
  app.get('/api/cached', requireAuth, (_req, res) => {
    res.set('Cache-Control', 'private, max-age=60').json({ ok: true });
  });
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/own-csp', (_req, res) => {
    res.set('Content-Security-Policy', OWN_CSP).json({ ok: true });
  });
  return app;
}

describeBinding('latchkeyExpress', (latchkey) => listen(suiteApp(latchkey)), {
  notFoundCsp: "default-src 'none'",
});

/** Records the error Express hands to the app's error handler. */
function errorRecorder() {
  const errors: Error[] = [];
  const handler: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    errors.push(error);
    res.status(500).json({ error: { code: 'internal_error', message: 'x' } });
  };
  return { errors, handler };
}

describe('latchkeyExpress: mounting', () => {
  it('refuses a body a parser already read, naming the fix, instead of hanging', async () => {
    const latchkey = testLatchkey();
    const { routes } = latchkeyExpress(latchkey);
    const { errors, handler } = errorRecorder();
    const app = express();
    app.use(express.json()); // the mistake: before the routes
    app.use('/auth', routes);
    app.use(handler);
    const base = await serveForTest(() => listen(app), latchkey);
    const { response } = await register(base);
    expect(response.status).toBe(500);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/already read by a body parser/);
    expect(errors[0]?.message).toContain("mount app.use('/auth', routes) before any body parser");

    // A GET has no body to lose: it still works behind the parser.
    expect((await fetch(`${base}/auth/session`)).status).toBe(401);
  });

  it('takes a body parser that did not read the body (another content type)', async () => {
    const latchkey = testLatchkey();
    const { routes } = latchkeyExpress(latchkey);
    const app = express();
    app.use(express.urlencoded({ extended: false })); // skips application/json
    app.use('/auth', routes);
    const base = await serveForTest(() => listen(app), latchkey);
    expect((await register(base)).response.status).toBe(201);
  });

  it('works mounted without a path, passing every other path on', async () => {
    const latchkey = testLatchkey();
    const { routes, securityHeaders } = latchkeyExpress(latchkey);
    const app = express();
    app.use(securityHeaders);
    app.use(routes);
    app.get('/authx', (_req, res) => {
      res.json({ mine: true });
    });
    const base = await serveForTest(() => listen(app), latchkey);
    expect((await register(base)).response.status).toBe(201);
    const mine = await fetch(`${base}/authx`);
    expect(await mine.json()).toEqual({ mine: true });
    expectSecured(mine, latchkey);
  });

  it('follows basePath and refuses a mount at another path with both paths named', async () => {
    const latchkey = testLatchkey({ basePath: '/api/auth' });
    const { routes } = latchkeyExpress(latchkey);
    const { errors, handler } = errorRecorder();
    const app = express();
    const api = express.Router();
    api.use('/auth', routes); // /api/auth, nested: matches basePath
    app.use('/api', api);
    app.use('/login-stuff', routes); // does not
    app.use(handler);
    const base = await serveForTest(() => listen(app), latchkey);
    const response = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery staple' }),
    });
    expect(response.status).toBe(201);
    expect((await fetch(`${base}/login-stuff/session`)).status).toBe(500);
    expect(errors[0]?.message).toMatch(
      /mounted at \/login-stuff but latchkey's basePath is \/api\/auth/,
    );
  });

  it('authOf throws on a route that requireAuth does not protect', async () => {
    const latchkey = testLatchkey();
    const { errors, handler } = errorRecorder();
    const app = express();
    app.get('/open', (_req, res) => {
      res.json({ id: authOf(res).userId });
    });
    app.use(handler);
    const base = await serveForTest(() => listen(app), latchkey);
    expect((await fetch(`${base}/open`)).status).toBe(500);
    expect(errors[0]?.message).toMatch(/requireAuth .* did not run/);
  });

  it('keeps cookies the route sets beside a re-signed one, and the app header first set', async () => {
    const latchkey = testLatchkey();
    const { routes, requireAuth, securityHeaders } = latchkeyExpress(latchkey);
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      next();
    });
    app.use(securityHeaders);
    app.use('/auth', routes);
    app.get('/api/me', requireAuth, (_req, res) => {
      res.cookie('theme', 'dark').json({ ok: true });
    });
    const base = await serveForTest(() => listen(app), latchkey);
    const cookie = (await register(base)).response.headers.getSetCookie()[0]!.split(';')[0]!;
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(me.headers.getSetCookie().map((c) => c.split('=')[0])).toEqual(['theme']);
  });
});
