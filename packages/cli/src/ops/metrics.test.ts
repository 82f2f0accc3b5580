import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLatchkey } from '@latchkey/core';
import {
  createLocalInvalidationBus,
  withNearCache,
  type SessionRecord,
} from '@latchkey/core/store-kit';
import { createMemoryStore } from '@latchkey/core/testing';
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from './exposition.js';
import {
  createLatchkeyMetrics,
  LATCHKEY_ROUTES,
  routeMatcher,
  withStoreMetrics,
} from './metrics.js';

const session = (id: string, userId: string, now: number): SessionRecord => ({
  id,
  userId,
  secretHash: 'h',
  previousSecretHash: null,
  rotatedAt: null,
  createdAt: now,
  lastSeenAt: now,
  idleExpiresAt: now + 60_000,
  expiresAt: now + 3_600_000,
  userAgent: null,
  ip: null,
});

async function scrape(metrics: ReturnType<typeof createLatchkeyMetrics>) {
  return parseExposition(await metrics.registry.metrics());
}

describe('routeMatcher', () => {
  const route = routeMatcher([...LATCHKEY_ROUTES, '/api/notes', '/api/notes/:id', '/assets/*']);
  it.each([
    ['/auth/login', '/auth/login'],
    ['/auth/sessions', '/auth/sessions'],
    ['/auth/sessions/abc123', '/auth/sessions/:id'],
    ['/api/notes/', '/api/notes'],
    ['/api/notes/6f1c-uuid', '/api/notes/:id'],
    ['/api/notes/a/b', 'other'],
    ['/assets/index-abc.js', '/assets/*'],
    ['/wp-login.php', 'other'],
    ['/auth/sessions/x?y', '/auth/sessions/:id'],
  ])('%s → %s', (path, template) => {
    expect(route(path)).toBe(template);
  });
});

describe('createLatchkeyMetrics', () => {
  it('near-cache hits and misses, read from its stats at each scrape', async () => {
    const metrics = createLatchkeyMetrics({ processMetrics: false });
    const bus = createLocalInvalidationBus();
    const store = withNearCache(createMemoryStore(), bus.channel());
    metrics.watchNearCache(store.stats);
    const now = Date.now();
    await store.sessions.createSession(session('s1', 'u1', now));
    await store.sessions.getSession('s1');
    await store.sessions.getSession('s1');
    const samples = await scrape(metrics);
    expect(sampleValue(samples, 'latchkey_near_cache_misses_total')).toBe(store.stats.misses);
    expect(sampleValue(samples, 'latchkey_near_cache_hits_total')).toBe(store.stats.hits);
    expect(store.stats.hits).toBeGreaterThan(0);
  });

  it('store calls: latency and errors by store and operation, faults re-thrown unchanged', async () => {
    const metrics = createLatchkeyMetrics({ processMetrics: false });
    const inner = createMemoryStore();
    const store = withStoreMetrics(inner, metrics.registry);
    await store.sessions.createSession(session('s1', 'u1', Date.now()));
    expect(await store.sessions.getSession('s1')).toMatchObject({ id: 's1' });
    await store.ping();
    const fault = new Error('backend gone');
    const broken = withStoreMetrics(
      { ...inner, name: 'broken', ping: () => Promise.reject(fault) },
      metrics.registry,
    );
    await expect(broken.ping()).rejects.toBe(fault);
    const samples = await scrape(metrics);
    const count = (labels: Record<string, string>) =>
      sampleValue(samples, 'latchkey_store_operation_duration_seconds_count', labels);
    expect(count({ store: inner.name, operation: 'sessions.getSession', outcome: 'ok' })).toBe(1);
    expect(count({ store: inner.name, operation: 'ping', outcome: 'ok' })).toBe(1);
    expect(count({ store: 'broken', operation: 'ping', outcome: 'error' })).toBe(1);
    expect(
      sampleValue(samples, 'latchkey_store_errors_total', { store: 'broken', operation: 'ping' }),
    ).toBe(1);
  });

  it('hashing queue: depth, running, waits and refusals through latchkey.hashing', async () => {
    const metrics = createLatchkeyMetrics({ processMetrics: false });
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['metrics-test-secret-'.padEnd(40, 'x')],
      publicUrl: 'http://localhost:3000',
      logger: () => undefined,
    });
    metrics.watchHashing(latchkey.hashing);
    const samples = await scrape(metrics);
    for (const name of [
      'latchkey_hashing_queue_depth',
      'latchkey_hashing_running',
      'latchkey_hashing_queued_total',
      'latchkey_hashing_wait_seconds_total',
      'latchkey_hashing_refused_total',
    ]) {
      expect(sampleValue(samples, name), name).toBe(0);
    }
  });

  it('security events by API.md event and outcome; session counters; never a user label', async () => {
    const metrics = createLatchkeyMetrics({ processMetrics: false });
    const seen: string[] = [];
    const log = metrics.countEvents((e) => seen.push(e.event));
    const time = new Date().toISOString();
    log({ event: 'login_failed', userId: 'user-1', ip: '10.0.0.1', time });
    log({ event: 'login_succeeded', userId: 'user-1', sessionId: 'sess-1', ip: null, time });
    log({ event: 'refresh_reused', userId: 'user-1', sessionId: 'sess-1', ip: null, time });
    log({ event: 'sessions_revoked', userId: 'user-1', count: 3, by: 'operator', time });
    log({ event: 'store_unavailable', operation: 'sessions.getSession', error: 'Error', time });
    expect(seen).toHaveLength(5);
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/user-1|sess-1|10\.0\.0\.1/);
    const samples = parseExposition(text);
    const events = (event: string, outcome: string) =>
      sampleValue(samples, 'latchkey_security_events_total', { event, outcome });
    expect(events('login', 'failure')).toBe(1);
    expect(events('login', 'success')).toBe(1);
    expect(events('token_reused', 'blocked')).toBe(1);
    expect(events('session_revoked', 'success')).toBe(1);
    expect(sampleValue(samples, 'latchkey_sessions_created_total')).toBe(1);
    expect(sampleValue(samples, 'latchkey_sessions_revoked_total', { reason: 'operator' })).toBe(3);
    expect(sampleValue(samples, 'latchkey_store_unavailable_total', { area: 'sessions' })).toBe(1);
  });
});

describe('docs', () => {
  it('every latchkey_ metric the dashboard and OPERATIONS.md name exists', () => {
    const metrics = createLatchkeyMetrics({ processMetrics: false });
    const store = withNearCache(createMemoryStore(), createLocalInvalidationBus().channel());
    metrics.watchNearCache(store.stats);
    withStoreMetrics(store, metrics.registry);
    metrics.watchHashing(
      createLatchkey({
        store,
        secrets: ['metrics-test-secret-'.padEnd(40, 'x')],
        publicUrl: 'http://localhost:3000',
        logger: () => undefined,
      }).hashing,
    );
    const docs = join(import.meta.dirname, '..', '..', '..', '..', 'docs');
    const text = ['grafana-latchkey.json', 'OPERATIONS.md']
      .map((file) => readFileSync(join(docs, file), 'utf8'))
      .join('\n');
    const named = new Set(
      [...text.matchAll(/\blatchkey_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(bucket|count|sum)$/, ''),
      ),
    );
    expect(named.size).toBeGreaterThan(15);
    const missing = [...named].filter((name) => !metrics.registry.getSingleMetric(name));
    expect(missing).toEqual([]);
  });
});
