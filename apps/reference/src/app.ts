import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { latchkeyHono, type LatchkeyVariables } from '@latchkey/adapters/hono';
import {
  createLatchkey,
  fail,
  LatchkeyError,
  parseBody,
  readJsonBody,
  type Latchkey,
  type LatchkeyOptions,
} from '@latchkey/core';
import { failClosed } from '@latchkey/core/store-kit';
import { Hono } from 'hono';
import { z } from 'zod';
import type { NotesStore } from './notes.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const noteBody = z.object({ text: z.string().min(1).max(10_000) });

export interface ReferenceAppOptions {
  latchkey: LatchkeyOptions;
  notes: NotesStore;
  /** Folder of the built SPA. @default apps/reference/dist */
  staticDir?: string;
}

/**
 * The reference app: the auth routes, the notes API behind the same middleware,
 * a health check, and the SPA shell (public; its same-site calls carry the cookie).
 */
export function createReferenceApp(options: ReferenceAppOptions): {
  app: Hono<{ Variables: LatchkeyVariables }>;
  latchkey: Latchkey;
} {
  const latchkey = createLatchkey(options.latchkey);
  const { securityHeaders, routes, requireAuth } = latchkeyHono(latchkey);
  // The notes live in a backend too: a fault there is a 503, like the session store's.
  const notes = failClosed(options.notes, 'notes', options.latchkey.logger);
  const app = new Hono<{ Variables: LatchkeyVariables }>();

  app.use('*', securityHeaders);
  app.onError((error) =>
    latchkey.errorResponse(
      error instanceof LatchkeyError ? error : fail('internal_error', { cause: error }),
    ),
  );
  app.notFound(() => latchkey.errorResponse(fail('not_found')));

  app.all('/auth', routes);
  app.all('/auth/*', routes);

  // Public and non-sensitive: tells the SPA which mode the server runs in.
  app.get('/config.json', () => latchkey.json({ mode: latchkey.config.mode }));

  app.get('/healthz', async (c) => {
    try {
      await latchkey.ping();
      return c.json({ status: 'ok' });
    } catch {
      return latchkey.errorResponse(fail('store_unavailable'));
    }
  });

  app.use('/api/*', requireAuth);
  app.get('/api/notes', async (c) => {
    const list = await notes.list(c.get('auth').userId);
    return c.json({
      notes: list.map((n) => ({
        id: n.id,
        text: n.text,
        createdAt: new Date(n.createdAt).toISOString(),
      })),
    });
  });
  app.post('/api/notes', async (c) => {
    const { text } = parseBody(noteBody, await readJsonBody(c.req.raw, 64 * 1024));
    const note = {
      id: crypto.randomUUID(),
      userId: c.get('auth').userId,
      text,
      createdAt: Date.now(),
    };
    await notes.create(note);
    return c.json(
      { note: { id: note.id, text: note.text, createdAt: new Date(note.createdAt).toISOString() } },
      201,
    );
  });
  app.delete('/api/notes/:id', async (c) => {
    if (!(await notes.delete(c.get('auth').userId, c.req.param('id')))) throw fail('not_found');
    return c.body(null, 204);
  });

  const staticDir = options.staticDir ?? DIST;
  if (existsSync(join(staticDir, 'index.html'))) {
    app.use('/*', serveStatic({ root: staticDir }));
  }
  return { app, latchkey };
}
