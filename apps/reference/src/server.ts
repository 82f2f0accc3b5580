import {
  loadOrCreateDevSecret,
  loadOrCreateDevSigningKeys,
  type EnvSettings,
} from '@latchkey/cli/config';
import {
  createLatchkeyMetrics,
  serveMetrics,
  withStoreMetrics,
  type MetricsServer,
} from '@latchkey/cli/metrics';
import { createMailer } from '@latchkey/cli/mail';
import {
  jsonLineLogger,
  type Latchkey,
  type LatchkeyStore,
  type SecurityLogger,
  type UnsafeOptions,
} from '@latchkey/core';
import type { NearCacheStats } from '@latchkey/core/store-kit';
import { createReferenceApp, type Readiness } from './app.js';
import { listen, type DrainReport } from './listen.js';
import { openStores } from './stores.js';

export interface RunningServer {
  /** e.g. http://localhost:43123 */
  url: string;
  port: number;
  /** Where users and sessions live, e.g. "users in postgres, sessions in redis". */
  description: string;
  /** The Latchkey instance (its `admin` operations, as the CLI runs them). */
  latchkey: Latchkey;
  /** The store the server uses (tests close it to simulate an outage). */
  store: LatchkeyStore;
  /** Port of `/metrics` on 127.0.0.1 (LATCHKEY_METRICS_PORT), or null when off. */
  metricsPort: number | null;
  /** Requests being answered right now. */
  inFlight(): number;
  /**
   * Graceful stop: `/readyz` turns 503, the listener stops accepting, the requests in
   * flight finish (up to `settings.shutdownTimeoutMs`), idle connections close; then
   * the stores (and the invalidation channel) and the metrics listener close.
   */
  close(): Promise<DrainReport>;
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
  let readiness: Readiness = 'starting';

  const metrics = settings.metricsPort === null ? null : createLatchkeyMetrics();
  const logger = extra.logger ?? jsonLineLogger;
  const nearCache = (store as Partial<{ stats: NearCacheStats }>).stats;
  if (metrics && nearCache) metrics.watchNearCache(nearCache);

  // Reset and verification mail: LATCHKEY_SMTP_URL, or (development) .eml files in the data dir.
  const mailer = createMailer({
    smtpUrl: settings.smtpUrl,
    from: settings.mailFrom,
    dataDir: settings.dataDir,
    logger,
  });

  const { app, latchkey } = createReferenceApp({
    latchkey: {
      store: metrics ? withStoreMetrics(store, metrics.registry) : store,
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
      logger: metrics ? metrics.countEvents(logger) : logger,
      ...(extra.unsafe ? { unsafe: extra.unsafe } : {}),
      mail: { mailer },
    },
    notes,
    ...(extra.staticDir ? { staticDir: extra.staticDir } : {}),
    readiness: () => readiness,
    ...(metrics ? { metrics } : {}),
  });
  if (metrics) metrics.watchHashing(latchkey.hashing);

  let metricsServer: MetricsServer | null = null;
  let server;
  try {
    if (metrics && settings.metricsPort !== null) {
      metricsServer = await serveMetrics(metrics.registry, settings.metricsPort);
    }
    server = await listen(app, latchkey, { port: settings.port, host: settings.host });
  } catch (error) {
    await metricsServer?.close();
    await mailer.close();
    await store.close();
    throw error;
  }
  const { port } = server;
  readiness = 'ready';

  const sweep = setInterval(() => {
    latchkey.sweepExpired().catch(() => undefined);
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  let closing: Promise<DrainReport> | null = null;
  const stop = async () => {
    clearInterval(sweep);
    const report = await server.drain({
      timeoutMs: settings.shutdownTimeoutMs,
      onDraining: () => (readiness = 'draining'),
    });
    await mailer.close();
    await store.close();
    await metricsServer?.close();
    return report;
  };

  return {
    url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`,
    port,
    description,
    store,
    latchkey,
    metricsPort: metricsServer?.port ?? null,
    inFlight: () => server.inFlight,
    // Once: a second signal, or a test's dispose after a drain, waits for the first.
    close: () => (closing ??= stop()),
  };
}
