/**
 * Offline use in real Chromium (issue #12), in both modes: the service worker's app shell, the
 * per-user IndexedDB store of the notes last seen, the queue of notes written offline, and every
 * way that data must disappear (sign-out, a session revoked elsewhere, another user, another tab).
 * `context.setOffline(true)` takes the network from the page and its service worker alike.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnv } from '@latchkey/cli/config';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Agent,
  freePort,
  GOOD_PASSWORD,
  TEST_SECRET,
  uniqueEmail,
  type TestServer,
} from '../apps/reference/test/harness.js';
import { startReferenceServer } from '../apps/reference/src/server.js';
import { createAccount, inContext, launchChromium } from './browser.js';
import { startAppInBrowser, type AppInBrowser } from './fixture.js';

const DIST = fileURLToPath(new URL('../apps/reference/dist', import.meta.url));
const PREFIX = 'latchkey-offline:';
/** Long enough for a page to notice the network state; polls stop as soon as the state is met. */
const poll = { timeout: 15_000, interval: 100 };

/** Waits until the service worker is active, its shell cached, so a reload offline finds it. */
async function shellCached(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await vi.waitFor(async () => expect(await cachedUrls(page)).not.toEqual([]), poll);
}

/** Every URL in Cache Storage, as the page sees it. */
function cachedUrls(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
    }
    return urls;
  });
}

/** The names of the app's offline databases in this browser. */
function offlineDatabases(page: Page): Promise<string[]> {
  return page.evaluate(async (prefix) => {
    const list = await indexedDB.databases();
    return list.flatMap(({ name }) => (name?.startsWith(prefix) ? [name] : []));
  }, PREFIX);
}

/** Everything in every IndexedDB database, as one string (what an XSS could read). */
function indexedDBContents(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const found: unknown[] = [];
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(new Error(String(open.error)));
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const records = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(new Error(String(request.error)));
        });
        found.push(name, store, records);
      }
      db.close();
    }
    return JSON.stringify(found);
  });
}

async function addNote(page: Page, text: string): Promise<void> {
  await page.getByRole('link', { name: 'Notes' }).click();
  await page.getByLabel('New note').fill(text);
  await page.getByRole('button', { name: 'Add note' }).click();
}

/** The status text in the top bar. */
const offlineStatus = (page: Page) => page.getByRole('status').filter({ hasText: /^Offline$/ });
const noteShown = (page: Page, text: string) =>
  page.locator('.note:not(.note-pending)').getByText(text, { exact: true });
const pendingShown = (page: Page, text: string) =>
  page.getByRole('list', { name: 'Pending notes' }).getByText(text, { exact: true });

describe.each(['session', 'token'] as const)('offline, %s mode', (mode) => {
  let fixture: AppInBrowser;
  let app: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    fixture = await startAppInBrowser(mode === 'token' ? { LATCHKEY_MODE: 'token' } : {});
    ({ app, browser } = fixture);
  });
  afterAll(() => fixture.close());

  const withContext = <T>(fn: (context: BrowserContext, page: Page) => Promise<T>) =>
    inContext(browser, fn);

  /** Signs in from node, as another device would, with that device's credential. */
  async function device(email: string) {
    const agent = new Agent(app.url);
    const login = await agent.request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(login.status).toBe(200);
    const bearer: Record<string, string> =
      mode === 'token' ? { authorization: `Bearer ${login.json.accessToken}` } : {};
    return {
      async notes(): Promise<string[]> {
        const reply = await agent.request('GET', '/api/notes', { headers: bearer });
        expect(reply.status).toBe(200);
        return (reply.json.notes as { text: string }[]).map((n) => n.text);
      },
      /** Revokes every other session of the user (`DELETE /auth/sessions`). */
      async revokeOthers(): Promise<void> {
        const headers = mode === 'token' ? bearer : { 'x-csrf-token': await agent.refreshCsrf() };
        const reply = await agent.request('DELETE', '/auth/sessions', { headers });
        expect(reply.status).toBeLessThan(300);
      },
    };
  }

  /** A new account, signed in, with `notes` added online and shown; the shell cached. */
  async function signedInWithNotes(page: Page, notes: string[]): Promise<string> {
    const email = await createAccount(page, app.url, uniqueEmail(`offline-${mode}`), GOOD_PASSWORD);
    for (const text of notes) {
      await addNote(page, text);
      await noteShown(page, text).waitFor();
    }
    await shellCached(page);
    return email;
  }

  it('reloads offline: the shell and the notes last seen, marked Offline; a note written offline is sent once when back', async () => {
    await withContext(async (context, page) => {
      const email = await signedInWithNotes(page, ['seen online']);
      await context.setOffline(true);
      await page.reload();
      await offlineStatus(page).waitFor();
      await noteShown(page, 'seen online').waitFor();

      await addNote(page, 'written offline');
      await pendingShown(page, 'written offline').waitFor();
      expect(await device(email).then((d) => d.notes())).toEqual(['seen online']);

      await context.setOffline(false);
      await noteShown(page, 'written offline').waitFor(poll);
      await vi.waitFor(() => expect(offlineStatus(page).count()).resolves.toBe(0), poll);
      await expect(pendingShown(page, 'written offline').count()).resolves.toBe(0);
      // Exactly once, even after another reload (which replays whatever is left).
      await page.reload();
      await noteShown(page, 'seen online').waitFor();
      const onServer = await device(email).then((d) => d.notes());
      expect(onServer.filter((t) => t === 'written offline')).toHaveLength(1);
      expect(onServer).toHaveLength(2);
    });
  });

  it('a note written offline without a reload is pending, then sent once', async () => {
    await withContext(async (context, page) => {
      const email = await signedInWithNotes(page, []);
      await context.setOffline(true);
      await offlineStatus(page).waitFor();
      await addNote(page, 'queued in place');
      await pendingShown(page, 'queued in place').waitFor();
      await context.setOffline(false);
      await noteShown(page, 'queued in place').waitFor(poll);
      expect(await device(email).then((d) => d.notes())).toEqual(['queued in place']);
    });
  });

  it('Cache Storage holds only the shell: never an /auth, /api or cookie-setting answer', async () => {
    await withContext(async (context, page) => {
      await signedInWithNotes(page, ['in the cache?']);
      // Visit every view, so every API the app calls has been answered at least once.
      for (const view of ['Sessions', 'Security', 'Account', 'Notes']) {
        await page.getByRole('link', { name: view }).click();
      }
      await context.setOffline(true);
      await page.reload();
      await noteShown(page, 'in the cache?').waitFor();
      await context.setOffline(false);
      await page.getByRole('link', { name: 'Security' }).click();
      const cachePanel = page.getByTestId('security-caches');
      await cachePanel.getByText('Non-sensitive', { exact: false }).waitFor();
      await cachePanel.getByText('/assets/index-', { exact: false }).waitFor();
      await expect(
        page.getByTestId('security-indexeddb').getByText('Non-sensitive', { exact: false }).count(),
      ).resolves.toBe(1);

      const urls = await cachedUrls(page);
      expect(urls.length).toBeGreaterThan(1);
      for (const url of urls) {
        const { origin, pathname } = new URL(url);
        expect(origin).toBe(app.url);
        expect(pathname).not.toMatch(/^\/(auth|api|bff|config\.json)(\/|$)/);
        // The same answer, asked from outside the browser: it sets no cookie, is not private.
        const reply = await fetch(url);
        expect(reply.status).toBe(200);
        expect(reply.headers.getSetCookie()).toEqual([]);
        expect(reply.headers.get('cache-control') ?? '').not.toMatch(/no-store|private/);
      }
      // What the cache holds carries no credential either.
      const bodies = await page.evaluate(async () => {
        const texts: string[] = [];
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          for (const request of await cache.keys()) {
            const hit = await cache.match(request);
            texts.push(
              `${request.url} ${[...(hit?.headers ?? [])].join()} ${(await hit?.text()) ?? ''}`,
            );
          }
        }
        return texts.join('\n');
      });
      const cookies = await context.cookies(app.url);
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(bodies).not.toContain(cookie.value);
      expect(bodies).not.toContain('in the cache?');
    });
  });

  it('the service worker script is revalidated on every load and sent under the CSP', async () => {
    const reply = await fetch(`${app.url}/sw.js`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-cache');
    expect(reply.headers.get('content-type')).toMatch(/javascript/);
    expect(reply.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(reply.headers.getSetCookie()).toEqual([]);
  });

  it('sign-out leaves no offline database, no note and no Cache Storage entry', async () => {
    await withContext(async (_context, page) => {
      await signedInWithNotes(page, ['gone at sign-out']);
      expect(await offlineDatabases(page)).toHaveLength(1);
      expect(await indexedDBContents(page)).toContain('gone at sign-out');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      await vi.waitFor(async () => {
        expect(await offlineDatabases(page)).toEqual([]);
        expect(await cachedUrls(page)).toEqual([]);
      }, poll);
      expect(await indexedDBContents(page)).not.toContain('gone at sign-out');
      // A shared computer's next user, offline, finds nothing: no shell, no notes.
      await page.reload();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await offlineDatabases(page)).toEqual([]);
    });
  });

  it('sign-out in tab A: tab B’s offline data is gone too', async () => {
    await withContext(async (context, pageA) => {
      await signedInWithNotes(pageA, ['seen by both tabs']);
      const pageB = await context.newPage();
      await pageB.goto(app.url);
      await noteShown(pageB, 'seen by both tabs').waitFor();
      await pageA.getByRole('button', { name: 'Sign out' }).click();
      await pageB.getByRole('button', { name: 'Sign in', exact: true }).waitFor(poll);
      await vi.waitFor(async () => expect(await offlineDatabases(pageB)).toEqual([]), poll);
      expect(await indexedDBContents(pageB)).not.toContain('seen by both tabs');
    });
  });

  it('a session revoked elsewhere, seen by tab A: tab B lets go and its data is gone', async () => {
    await withContext(async (context, pageA) => {
      const email = await signedInWithNotes(pageA, ['revoked while open']);
      const pageB = await context.newPage();
      await pageB.goto(app.url);
      await noteShown(pageB, 'revoked while open').waitFor();
      await (await device(email)).revokeOthers();
      // Tab A asks the server something; only it hears the answer. No Clear-Site-Data here.
      await pageA.getByRole('link', { name: 'Sessions' }).click();
      await pageA.getByRole('button', { name: 'Sign in', exact: true }).waitFor(poll);
      await vi.waitFor(async () => expect(await offlineDatabases(pageA)).toEqual([]), poll);
      // Tab B was not touched: it learns from tab A, asks the server, and signs out too.
      await pageB.getByRole('button', { name: 'Sign in', exact: true }).waitFor(poll);
      expect(await offlineDatabases(pageB)).toEqual([]);
      expect(await indexedDBContents(pageB)).not.toContain('revoked while open');
    });
  });

  it('another user signing in on the same browser sees none of the first user’s notes', async () => {
    await withContext(async (context, page) => {
      await signedInWithNotes(page, ['only for A']);
      const first = await offlineDatabases(page);
      expect(first).toHaveLength(1);
      const other = uniqueEmail(`offline-b-${mode}`);
      // B signs up while A's data is still there (no sign-out in between), then loads the app.
      const status = await page.evaluate(async (email) => {
        const response = await fetch('/auth/register', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Bea' }),
        });
        return response.status;
      }, other);
      expect(status).toBe(201);
      await page.reload();
      await page.getByText('Bea', { exact: true }).waitFor();
      await page.getByText('No notes yet', { exact: false }).waitFor();
      await vi.waitFor(async () => {
        const now = await offlineDatabases(page);
        expect(now).toHaveLength(1);
        expect(now).not.toEqual(first);
      }, poll);
      expect(await indexedDBContents(page)).not.toContain('only for A');
      // The database is named by B's opaque id, not by an email.
      expect((await offlineDatabases(page))[0]).not.toContain('@');

      await context.setOffline(true);
      await page.reload();
      await offlineStatus(page).waitFor();
      await page.getByText('Bea', { exact: true }).waitFor();
      await page.getByText('No notes yet', { exact: false }).waitFor();
      await expect(page.getByText('only for A').count()).resolves.toBe(0);
    });
  });

  it('a session revoked while offline: back online, the queue is not sent and the data is wiped', async () => {
    await withContext(async (context, page) => {
      const email = await signedInWithNotes(page, ['before the revoke']);
      await context.setOffline(true);
      await page.reload();
      await noteShown(page, 'before the revoke').waitFor();
      await addNote(page, 'must never arrive');
      await pendingShown(page, 'must never arrive').waitFor();
      const elsewhere = await device(email);
      await elsewhere.revokeOthers();

      await context.setOffline(false);
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor(poll);
      await vi.waitFor(async () => expect(await offlineDatabases(page)).toEqual([]), poll);
      expect(await indexedDBContents(page)).not.toContain('must never arrive');
      expect(await elsewhere.notes()).toEqual(['before the revoke']);
    });
  });
});

describe('a new deploy', () => {
  let browser: Browser;
  let dir: string;
  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  beforeAll(async () => {
    // A copy of the build, so this test can deploy a new shell without touching the real one.
    dir = await mkdtemp(join(tmpdir(), 'latchkey-deploy-'));
    await cp(DIST, join(dir, 'dist'), { recursive: true });
    const port = await freePort('localhost');
    const settings = readEnv({
      HOST: 'localhost',
      PORT: String(port),
      LATCHKEY_DATA_DIR: join(dir, 'data'),
      LATCHKEY_SECRET: TEST_SECRET,
      LATCHKEY_REGISTER_LIMIT: '100000',
    });
    [server, browser] = await Promise.all([
      startReferenceServer(settings, { logger: () => undefined, staticDir: join(dir, 'dist') }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), server?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('is served on the next online load; the old shell cache is deleted', async () => {
    await inContext(browser, async (context, page) => {
      await createAccount(page, server.url, uniqueEmail('deploy'), GOOD_PASSWORD);
      await shellCached(page);
      const before = await page.evaluate(() => caches.keys());
      expect(before).toHaveLength(1);

      // Deploy: a changed index.html, and the worker a build makes for it (a new version).
      const dist = join(dir, 'dist');
      const html = await readFile(join(dist, 'index.html'), 'utf8');
      await writeFile(
        join(dist, 'index.html'),
        html.replace('<title>', '<meta name="deploy" content="second" />\n    <title>'),
      );
      const sw = await readFile(join(dist, 'sw.js'), 'utf8');
      await writeFile(
        join(dist, 'sw.js'),
        sw.replace(/shell-\$\{"[0-9a-f]+"\}/, 'shell-${"second"}'),
      );
      expect(await readFile(join(dist, 'sw.js'), 'utf8')).toContain('"second"');

      await page.reload();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await page.locator('meta[name="deploy"]').getAttribute('content')).toBe('second');
      // The new worker takes over and drops the old deploy's cache.
      await vi.waitFor(
        async () => expect(await page.evaluate(() => caches.keys())).toEqual(['shell-second']),
        poll,
      );
      // Offline, the new shell is what comes back.
      await context.setOffline(true);
      await page.reload();
      await offlineStatus(page).waitFor();
      expect(await page.locator('meta[name="deploy"]').getAttribute('content')).toBe('second');
    });
  });
});
