import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { answerClientErrors } from '@latchkey/adapters/node';
import {
  jsonLineLogger,
  securityHeaders,
  type LatchkeyStore,
  type SecurityLogger,
  type UnsafeOptions,
} from '@latchkey/core';
import { createReferenceApp } from './app.js';
import type { EnvSettings } from './env.js';
import { loadOrCreateDevSigningKeys } from './keys.js';
import { loadOrCreateDevSecret } from './secret.js';
import { openStores } from './stores.js';

export interface RunningServer {
  /** e.g. http://localhost:43123 */
  url: string;
  port: number;
  /** Where users and sessions live, e.g. "users in postgres, sessions in redis". */
  description: string;
  /** The store the server uses (tests close it to simulate an outage). */
  store: LatchkeyStore;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Starts the reference app from validated settings: the stores the environment
 * names (SQLite under the data dir by default), the auth routes, the notes API and
 * the SPA. `port: 0` picks a free port.
 */
export async function startReferenceServer(
  settings: EnvSettings,
  extra: { logger?: SecurityLogger; staticDir?: string; unsafe?: UnsafeOptions } = {},
): Promise<RunningServer> {
  const secrets = settings.secrets ?? [loadOrCreateDevSecret(settings.dataDir)];
  const { token: tokenTimes, ...options } = settings.options;
  const { store, notes, description } = await openStores(settings);

  const { app, latchkey } = createReferenceApp({
    latchkey: {
      store,
      secrets,
      ...options,
      ...(settings.mode === 'token'
        ? {
            token: {
              ...tokenTimes,
              keys: settings.signingKeys ?? (await loadOrCreateDevSigningKeys(settings.dataDir)),
            },
          }
        : {}),
      logger: extra.logger ?? jsonLineLogger,
      ...(extra.unsafe ? { unsafe: extra.unsafe } : {}),
    },
    notes,
    ...(extra.staticDir ? { staticDir: extra.staticDir } : {}),
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: settings.port, hostname: settings.host }, () =>
      resolve(s),
    );
    // Node's own 400 / 431 answers (malformed request line, oversized headers) carry
    // the security headers too; installed before the first connection can arrive.
    answerClientErrors(s, securityHeaders(latchkey.config));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;

  const sweep = setInterval(() => {
    latchkey.sweepExpired().catch(() => undefined);
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  return {
    url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    port,
    description,
    store,
    async close() {
      clearInterval(sweep);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
    },
  };
}
