import { authOf, latchkeyExpress } from '@latchkey/adapters/express';
import type { Latchkey } from '@latchkey/core';
import express from 'express';

/** An Express app with Latchkey: the auth routes, the security headers, a protected API. */
export function createApp(latchkey: Latchkey): express.Express {
  const { routes, requireAuth, securityHeaders } = latchkeyExpress(latchkey);
  const app = express();
  app.use(securityHeaders); // CSP, HSTS, frame blocking … on every answer
  app.use('/auth', routes); // register, login, logout, session(s) … before any body parser
  app.use(express.json());
  app.use('/api', requireAuth); // 401 / 403 / 503 as JSON, else res.locals.latchkey is set

  app.get('/api/me', (_req, res) => {
    res.json({ id: authOf(res).userId });
  });
  const notes: { text: string; by: string }[] = [];
  app.post('/api/notes', (req, res) => {
    const note = { text: String((req.body as { text?: unknown }).text), by: authOf(res).userId };
    notes.push(note);
    res.status(201).json(note);
  });
  return app;
}
