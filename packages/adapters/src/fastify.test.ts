import type { Latchkey } from '@latchkey/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  describeBinding,
  expectError,
  expectSecured,
  OWN_CSP,
  register,
  serveForTest,
  testLatchkey,
  type Served,
} from '../test/binding-suite.js';
import { authOf, latchkeyFastify } from './fastify.js';

async function listen(app: FastifyInstance): Promise<Served> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { base: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** The app of the binding suite, mounted as the README shows. */
async function suiteApp(latchkey: Latchkey): Promise<FastifyInstance> {
  const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
  const app = Fastify();
  app.addHook('onRequest', securityHeaders);
  await app.register(routes);
  app.get('/api/me', { onRequest: requireAuth }, (request) => ({ id: authOf(request).userId }));
  app.post('/api/me', { onRequest: requireAuth }, (request) => ({ id: authOf(request).userId }));
  app.get('/api/cached', { onRequest: requireAuth }, (_request, reply) =>
    reply.header('cache-control', 'private, max-age=60').send({ ok: true }),
  );
  app.get('/public', () => ({ ok: true }));
  app.get('/own-csp', (_request, reply) =>
    reply.header('content-security-policy', OWN_CSP).send({ ok: true }),
  );
  return app;
}

describeBinding('latchkeyFastify', async (latchkey) => listen(await suiteApp(latchkey)));

describe('latchkeyFastify: mounting', () => {
  it("keeps the app's own body parsing, 404 and error handling", async () => {
    const latchkey = testLatchkey();
    const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
    const app = Fastify();
    app.addHook('onRequest', securityHeaders);
    await app.register(routes);
    app.post('/echo', (request) => ({ body: request.body }));
    app.get('/boom', () => {
      throw new Error('route failed');
    });
    // requireAuth for a whole scope, as a hook.
    await app.register(
      (scope, _options, done) => {
        scope.addHook('preHandler', requireAuth);
        scope.get('/me', (request) => ({ id: authOf(request).userId }));
        done();
      },
      { prefix: '/api' },
    );
    const base = await serveForTest(() => listen(app), latchkey);

    const echo = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await echo.json()).toEqual({ body: { a: 1 } });
    expectSecured(echo, latchkey);

    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expectSecured(missing, latchkey);

    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expectSecured(boom, latchkey);

    const cookie = (await register(base)).response.headers.getSetCookie()[0]!.split(';')[0]!;
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    await expectError(await fetch(`${base}/api/me`), latchkey, 401, 'unauthenticated');
  });

  it('takes an invalid Content-Type to Latchkey, not to Fastify', async () => {
    const latchkey = testLatchkey();
    const { routes } = latchkeyFastify(latchkey);
    const app = Fastify();
    await app.register(routes);
    const base = await serveForTest(() => listen(app), latchkey);
    const response = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'not a type' },
      body: '{}',
    });
    await expectError(response, latchkey, 415, 'unsupported_media_type', true);
  });

  it('accepts the prefix that leads to basePath, refuses another with both named', async () => {
    const latchkey = testLatchkey({ basePath: '/api/auth' });
    const good = Fastify();
    await good.register(latchkeyFastify(latchkey).routes, { prefix: '/api' });
    const base = await serveForTest(() => listen(good), latchkey);
    expect((await fetch(`${base}/api/auth/session`)).status).toBe(401);
    expect((await fetch(`${base}/api/auth`)).status).toBe(404);

    const bad = Fastify();
    await expect(
      bad.register(latchkeyFastify(latchkey).routes, { prefix: '/login' }),
    ).rejects.toThrow(/prefix \/login but latchkey's basePath is \/api\/auth/);
    await bad.close();
  });

  it('declares request.latchkey: null where requireAuth did not run, and authOf says so', async () => {
    const latchkey = testLatchkey();
    const { routes, requireAuth } = latchkeyFastify(latchkey);
    const app = Fastify();
    app.get('/open', (request) => ({ latchkey: request.latchkey }));
    app.get('/guarded', { onRequest: requireAuth }, (request) => ({
      id: authOf(request).userId,
    }));
    app.get('/wrong', (request) => ({ id: authOf(request).userId }));
    await app.register(routes);
    expect(app.hasRequestDecorator('latchkey')).toBe(true);
    const base = await serveForTest(() => listen(app), latchkey);
    expect(await (await fetch(`${base}/open`)).json()).toEqual({ latchkey: null });
    const wrong = await fetch(`${base}/wrong`);
    expect(wrong.status).toBe(500);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/did not run/);
  });

  it('puts the security headers on answers written past Fastify (hijacked)', async () => {
    const latchkey = testLatchkey();
    const { securityHeaders } = latchkeyFastify(latchkey);
    const app = Fastify();
    app.addHook('onRequest', securityHeaders);
    app.get('/raw', (_request, reply) => {
      reply.hijack();
      reply.raw.end('raw');
    });
    const base = await serveForTest(() => listen(app), latchkey);
    const raw = await fetch(`${base}/raw`);
    expect(await raw.text()).toBe('raw');
    expectSecured(raw, latchkey);
  });
});
