import { authOf, latchkeyFastify } from '@latchkey/adapters/fastify';
import type { Latchkey } from '@latchkey/core';
import Fastify, { type FastifyInstance } from 'fastify';

/** A Fastify app with Latchkey: the auth routes, the security headers, a protected API. */
export async function createApp(latchkey: Latchkey): Promise<FastifyInstance> {
  const { routes, requireAuth, securityHeaders } = latchkeyFastify(latchkey);
  const app = Fastify();
  app.addHook('onRequest', securityHeaders); // CSP, HSTS, frame blocking … on every answer
  await app.register(routes); // /auth/*: register, login, logout, session(s) …

  const notes: { text: string; by: string }[] = [];
  await app.register(
    (api, _options, done) => {
      api.addHook('onRequest', requireAuth); // 401 / 403 / 503 as JSON, else request.latchkey
      api.get('/me', (request) => ({ id: authOf(request).userId }));
      api.post<{ Body: { text?: unknown } }>('/notes', (request, reply) => {
        const note = { text: String(request.body.text), by: authOf(request).userId };
        notes.push(note);
        return reply.code(201).send(note);
      });
      done();
    },
    { prefix: '/api' },
  );
  return app;
}
