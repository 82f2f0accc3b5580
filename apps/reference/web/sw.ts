/**
 * The service worker: the app shell offline, and nothing else. `sw-plugin.ts` compiles this file
 * into dist/sw.js at build time, with `SHELL` (the built, hashed files index.html loads, and
 * index.html itself as `/`) and `VERSION` (a hash of exactly those files) filled in.
 *
 * - install: fetches the shell without cookies into the cache `shell-<VERSION>`;
 * - activate: deletes every other `shell-*` cache (old deploys);
 * - navigations: network first, so a new deploy is served on the next online load; the cached
 *   shell only when the network fails;
 * - shell files: from the cache (their names change with their content);
 * - everything else — `/auth/*`, `/api/*`, `/bff/*`, `/config.json`, other origins, anything
 *   not GET — is not touched: it goes to the network as if there were no worker, and no answer
 *   is ever written to the cache at run time. The worker holds no credential.
 */

declare const SHELL: readonly string[];
declare const VERSION: string;

// The few service-worker types used here (the DOM library this project compiles with has none).
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const worker = self as unknown as ServiceWorkerScope;
const CACHE = `shell-${VERSION}`;
/** Never served from, or written to, the cache: credentials and private answers live there. */
const PRIVATE = /^\/(auth|api|bff)(\/|$)/;

/** Whether an answer may be kept: a plain same-origin 200 that no header marks as private. */
const storable = (response: Response) =>
  response.status === 200 &&
  response.type === 'basic' &&
  !response.headers.has('Set-Cookie') &&
  !/no-store|private/i.test(response.headers.get('Cache-Control') ?? '');

worker.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        SHELL.map(async (path) => {
          const response = await fetch(path, { cache: 'reload', credentials: 'omit' });
          if (!storable(response)) throw new Error(`${path} may not be cached`);
          await cache.put(path, response);
        }),
      );
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('shell-') && name !== CACHE) await caches.delete(name);
      }
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== location.origin || PRIVATE.test(url.pathname)) {
    return;
  }
  const cached = (path: string) => caches.open(CACHE).then((cache) => cache.match(path));
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request).catch(async (error: unknown) => {
        const shell = await cached('/');
        if (shell) return shell;
        throw error;
      }),
    );
  } else if (url.pathname !== '/' && SHELL.includes(url.pathname)) {
    event.respondWith(cached(url.pathname).then((hit) => hit ?? fetch(request)));
  }
});
