import {
  loadOrCreateDevSecret,
  loadOrCreateDevSigningKeys,
  type EnvSettings,
} from '@latchkey/cli/config';
import {
  jsonLineLogger,
  type LatchkeyStore,
  type SecurityLogger,
  type UnsafeOptions,
} from '@latchkey/core';
import { createReferenceApp } from './app.js';
import { listen } from './listen.js';
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

  const server = await listen(app, latchkey, { port: settings.port, host: settings.host });
  const { port } = server;

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
      await server.close();
      await store.close();
    },
  };
}
