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
import { LATCHKEY_ROUTES, routeMatcher, type LatchkeyMetrics } from '@latchkey/cli/metrics';
import { Hono } from 'hono';
import { z } from 'zod';
import type { NotesStore } from './notes.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const noteBody = z.object({ text: z.string().min(1).max(10_000) });

/** Where the server is in its life: `/readyz` answers 503 unless `ready`. */
export type Readiness = 'starting' | 'ready' | 'draining';

/** The app's own routes, as request metrics label them (with Latchkey's `/auth` ones). */
const APP_ROUTES = [
  '/healthz',
  '/readyz',
  '/config.json',
  '/api/notes',
  '/api/notes/:id',
  '/',
  '/index.html',
  '/reset',
  '/verify',
  '/sw.js',
  '/assets/*',
];

export interface ReferenceAppOptions {
  latchkey: LatchkeyOptions;
  notes: NotesStore;
  /** Folder of the built SPA. @default apps/reference/dist */
  staticDir?: string;
  /** The server's state, for `GET /readyz`. @default () => 'ready' */
  readiness?: () => Readiness;
  /** Request counts and latency by route template and status. @default none */
  metrics?: LatchkeyMetrics;
}

/**
 * The reference app: the auth routes, the notes API behind the same middleware,
 * a health check, and the SPA shell (public; its same-site calls carry the cookie).
 */
export function createReferenceApp(options: ReferenceAppOptions): {
  app: Hono<{ Variables: LatchkeyVariables }>;
  latchkey: Latchkey;
} {
  // The notes live in a backend too: a fault there is a 503, like the session store's.
  const notes = failClosed(options.notes, 'notes', options.latchkey.logger);
  // A deleted account takes its notes along (Latchkey calls this before the user goes;
  // the notes table's foreign key does it too, for `latchkey users delete`, which runs no hook).
  const { onAccountDeleted } = options.latchkey;
  const latchkey = createLatchkey({
    ...options.latchkey,
    async onAccountDeleted(userId) {
      await onAccountDeleted?.(userId);
      await notes.deleteAll(userId);
    },
  });
  const { securityHeaders, routes, requireAuth } = latchkeyHono(latchkey);
  const app = new Hono<{ Variables: LatchkeyVariables }>();

  if (options.metrics) {
    const metrics = options.metrics;
    const routeOf = routeMatcher([...LATCHKEY_ROUTES, ...APP_ROUTES]);
    app.use('*', async (c, next) => {
      const started = performance.now();
      metrics.inFlight(1);
      try {
        await next();
      } finally {
        metrics.inFlight(-1);
        const seconds = (performance.now() - started) / 1000;
        metrics.observeRequest(c.req.method, routeOf(c.req.path), c.res.status, seconds);
      }
    });
  }
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
  // Public and non-sensitive: with an OpenID provider configured, the name on its button.
  const { oidc } = latchkey.config;
  app.get('/config.json', () =>
    latchkey.json({ mode: latchkey.config.mode, ...(oidc ? { oidc: { name: oidc.name } } : {}) }),
  );

  // Liveness: the process is up and the store answers.
  const health = async () => {
    try {
      await latchkey.ping();
      return latchkey.json({ status: 'ok' });
    } catch {
      return latchkey.errorResponse(fail('store_unavailable'));
    }
  };
  app.get('/healthz', health);
  // Readiness: like /healthz, but 503 while starting and while draining for shutdown, so a
  // load balancer sends nothing new while the requests in flight finish.
  const readiness = options.readiness ?? (() => 'ready' as const);
  app.get('/readyz', async () => {
    const state = readiness();
    return state === 'ready' ? health() : latchkey.json({ status: state }, { status: 503 });
  });

  // Backend for frontend: the upstream API with the provider's token (LATCHKEY_UPSTREAM_URL).
  const { bff } = latchkey;
  if (bff && oidc?.upstream) {
    app.all(`${oidc.upstream.path}/*`, (c) => bff.relay(c.req.raw));
  }

  app.use('/api/*', requireAuth);
  app.get('/api/notes', async (c) => {
    const list = await notes.list(c.get('auth').userId);
    // latchkey.json(): the security headers and no-store are in the answer already, so
    // the bindings add none (measurably cheaper than c.json() on Node).
    return latchkey.json({
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
    return latchkey.json(
      { note: { id: note.id, text: note.text, createdAt: new Date(note.createdAt).toISOString() } },
      { status: 201 },
    );
  });
  app.delete('/api/notes/:id', async (c) => {
    if (!(await notes.delete(c.get('auth').userId, c.req.param('id')))) throw fail('not_found');
    return c.body(null, 204);
  });

  const staticDir = options.staticDir ?? DIST;
  if (existsSync(join(staticDir, 'index.html'))) {
    // The service worker is checked against the server on every update check (no-cache), so a
    // new deploy's worker, with its new shell list, is found at the next online load.
    app.use('/sw.js', async (c, next) => {
      await next();
      c.header('Cache-Control', 'no-cache');
    });
    // The pages recovery links open (`/reset#token=…`, `/verify#token=…`) are the SPA: the
    // token is in the fragment, so a scanner's GET or HEAD of the link spends nothing.
    for (const page of ['/reset', '/verify']) {
      app.get(page, serveStatic({ root: staticDir, path: 'index.html' }));
    }
    app.use('/*', serveStatic({ root: staticDir }));
  }
  return { app, latchkey };
}
