import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, never a downloaded browser; flags that keep it off the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface AttackerSite {
  /** e.g. http://127.0.0.1:40123 — another site than the app on localhost. */
  origin: string;
  /** Serves `html` at `path`. */
  page(path: string, html: string, headers?: Record<string, string>): string;
  close(): Promise<void>;
}

/**
 * A second site on 127.0.0.1 while the app runs on localhost: browsers treat the
 * two as different sites, so SameSite=Strict and Sec-Fetch-Site behave as they
 * would for evil.example against app.example.
 */
export async function startAttackerSite(): Promise<AttackerSite> {
  const pages = new Map<string, { html: string; headers: Record<string, string> }>();
  const server: Server = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...page.headers })
      .end(page.html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    page(path, html, headers = {}) {
      pages.set(path, { html, headers });
      return origin + path;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Everything script on the page can read, as one string: cookies, Web Storage,
 * IndexedDB, string globals, the DOM and the URLs.
 */
export function harvest(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const found: unknown[] = [document.cookie];
    for (const storage of [localStorage, sessionStorage]) {
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i) ?? '';
        found.push(key, storage.getItem(key));
      }
    }
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(new Error(String(open.error)));
      });
      for (const name of Array.from(db.objectStoreNames)) {
        const records = await new Promise<unknown[]>((resolve, reject) => {
          const request = db.transaction(name).objectStore(name).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(new Error(String(request.error)));
        });
        found.push(name, records);
      }
      db.close();
    }
    for (const key of Object.getOwnPropertyNames(window)) {
      try {
        const value = (window as unknown as Record<string, unknown>)[key];
        if (typeof value === 'string') found.push(key, value);
      } catch {
        // cross-origin or throwing getters are not readable by script either
      }
    }
    found.push(document.documentElement.outerHTML, location.href, document.referrer);
    return JSON.stringify(found);
  });
}

/** Runs `fn` in a fresh browser context (its own cookies and storage), closed afterwards. */
export async function inContext<T>(
  browser: Browser,
  fn: (context: BrowserContext, page: Page) => Promise<T>,
): Promise<T> {
  const context = await browser.newContext();
  try {
    return await fn(context, await context.newPage());
  } finally {
    await context.close();
  }
}

/** Signs up through the reference SPA's form, as a person would; waits until signed in. */
export async function createAccount(
  page: Page,
  baseUrl: string,
  email: string,
  password: string,
): Promise<string> {
  await page.goto(baseUrl);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return email;
}
