import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../apps/reference/test/harness.js';
import { launchChromium, startAttackerSite, type AttackerSite } from './browser.js';

/** The reference app on localhost, a Chromium, and an attacker's site on 127.0.0.1. */
export interface AppInBrowser {
  app: TestServer;
  browser: Browser;
  attacker: AttackerSite;
  close(): Promise<void>;
}

/** Starts the three in parallel; `env` configures the app as `npm start` would read it. */
export async function startAppInBrowser(env: Record<string, string> = {}): Promise<AppInBrowser> {
  const [app, browser, attacker] = await Promise.all([
    startTestServer(env, { host: 'localhost' }),
    launchChromium(),
    startAttackerSite(),
  ]);
  return {
    app,
    browser,
    attacker,
    async close() {
      await Promise.all([browser.close(), attacker.close()]);
      await app.dispose();
    },
  };
}
