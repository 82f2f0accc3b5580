import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  auditEntry,
  type HashingStats,
  type LatchkeyStore,
  type SecurityLogger,
} from '@latchkey/core';
import type { NearCacheStats } from '@latchkey/core/store-kit';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Route templates of Latchkey's auth routes (API.md), under the default base path
 * `/auth`. Request metrics are labelled by template, never by the raw path, so the
 * label set stays bounded whatever clients send.
 */
export const LATCHKEY_ROUTES: readonly string[] = [
  '/auth/register',
  '/auth/login',
  '/auth/login/mfa',
  '/auth/logout',
  '/auth/session',
  '/auth/sessions',
  '/auth/sessions/:id',
  '/auth/password',
  '/auth/password/forgot',
  '/auth/password/reset',
  '/auth/refresh',
  '/auth/jwks.json',
  '/auth/account',
  '/auth/reauth',
  '/auth/mfa/totp',
  '/auth/mfa/totp/confirm',
  '/auth/passkeys',
  '/auth/passkeys/:id',
  '/auth/passkeys/register',
  '/auth/passkeys/register/options',
  '/auth/passkeys/login',
  '/auth/passkeys/login/options',
  '/auth/email/verify',
  '/auth/email/verify/send',
  '/auth/oidc/login',
  '/auth/oidc/callback',
  '/auth/oidc/logout',
  '/auth/oidc/backchannel-logout',
];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Maps request paths to one of a fixed list of templates (`/api/notes/:id`: a
 * `:name` segment matches one non-empty segment; a final `/*` matches anything
 * below), else `other`. Exact templates win over parameterised ones.
 */
export function routeMatcher(templates: readonly string[]): (path: string) => string {
  const exact = new Set(templates.filter((t) => !t.includes(':') && !t.endsWith('/*')));
  const patterns = templates
    .filter((t) => !exact.has(t))
    .map((template) => {
      const source = template
        .split('/')
        .map((part) =>
          part === '*'
            ? '.*'
            : part.startsWith(':')
              ? '[^/]+'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      return { template, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if (exact.has(trimmed)) return trimmed;
    for (const { template, regex } of patterns) if (regex.test(trimmed)) return template;
    return 'other';
  };
}

export interface LatchkeyMetricsOptions {
  /** Where the metrics are registered. @default a new Registry */
  registry?: Registry;
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC). @default true */
  processMetrics?: boolean;
}

/** Latchkey's Prometheus metrics, ready to be fed by the server's parts. */
export interface LatchkeyMetrics {
  readonly registry: Registry;
  /** Counts one answered HTTP request; `route` must be a template (see `routeMatcher`). */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** One more (or one fewer) request being answered. */
  inFlight(delta: 1 | -1): void;
  /**
   * A security logger that counts each event (by API.md's `event` and `outcome`, never by
   * user), then hands it to `next`.
   */
  countEvents(next: SecurityLogger): SecurityLogger;
  /** Reads the near-cache's counters at each scrape. */
  watchNearCache(stats: NearCacheStats): void;
  /** Reads the password-hashing queue at each scrape (`latchkey.hashing`). */
  watchHashing(hashing: HashingStats): void;
}

/** Sets a counter to a running total read from elsewhere, at scrape time. */
function totalOf(counter: Counter, read: () => number): void {
  counter.reset();
  counter.inc(read());
}

/**
 * Creates Latchkey's metrics (names and labels in docs/OPERATIONS.md). Every label
 * has a bounded set of values: route templates, status codes, store operations,
 * API.md's event names; never a user id, email, session id or raw path.
 */
export function createLatchkeyMetrics(options: LatchkeyMetricsOptions = {}): LatchkeyMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const inFlight = new Gauge({
    name: 'latchkey_http_requests_in_flight',
    help: 'HTTP requests being answered right now.',
    registers,
  });
  const events = new Counter({
    name: 'latchkey_security_events_total',
    help: 'Security events (API.md), by event and outcome.',
    labelNames: ['event', 'outcome'] as const,
    registers,
  });
  const sessionsCreated = new Counter({
    name: 'latchkey_sessions_created_total',
    help: 'Sessions (token mode: refresh families) started by a sign-in or a password change.',
    registers,
  });
  const sessionsRevoked = new Counter({
    name: 'latchkey_sessions_revoked_total',
    help: 'Sessions ended before their expiry, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const sessionsExpired = new Counter({
    name: 'latchkey_sessions_expired_total',
    help: 'Sessions found expired when presented.',
    registers,
  });
  const csrfRefused = new Counter({
    name: 'latchkey_csrf_refused_total',
    help: 'Unsafe requests refused by the cross-origin or anti-forgery check, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const unavailable = new Counter({
    name: 'latchkey_store_unavailable_total',
    help: 'Requests answered 503 store_unavailable (fail closed), by area.',
    labelNames: ['area'] as const,
    registers,
  });

  const BOUNDED_REASON = /^[a-z_-]{1,32}$/;
  const count: SecurityLogger = (entry) => {
    const audit = auditEntry(entry);
    if (audit) events.inc({ event: audit.event, outcome: audit.outcome });
    switch (entry.event) {
      case 'login_succeeded':
        sessionsCreated.inc();
        break;
      case 'password_changed':
        // The current session is re-issued under a new id; every other one is revoked.
        sessionsCreated.inc();
        sessionsRevoked.inc({ reason: 'password_changed' }, entry.revoked + 1);
        break;
      case 'logout':
        sessionsRevoked.inc({ reason: 'logout' });
        break;
      case 'session_revoked':
        sessionsRevoked.inc({ reason: entry.by === 'operator' ? 'operator' : 'user' });
        break;
      case 'sessions_revoked':
        sessionsRevoked.inc({ reason: entry.by === 'operator' ? 'operator' : 'user' }, entry.count);
        break;
      case 'account_deleted':
        sessionsRevoked.inc({ reason: 'account_deleted' }, entry.sessions);
        break;
      case 'refresh_reused':
        sessionsRevoked.inc({ reason: 'token_reused' });
        break;
      case 'session_expired':
        sessionsExpired.inc();
        break;
      case 'csrf_refused':
        csrfRefused.inc({ reason: BOUNDED_REASON.test(entry.reason) ? entry.reason : 'other' });
        break;
      case 'store_unavailable': {
        // `operation` is `area.method`: the area is a small fixed set (users, sessions, notes…).
        const area = entry.operation.split('.')[0] ?? 'other';
        unavailable.inc({ area: BOUNDED_REASON.test(area) ? area : 'other' });
        break;
      }
      default:
        break;
    }
  };

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const labels = {
        method: METHODS.has(method) ? method : 'other',
        route,
        status: String(status),
      };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    inFlight: (delta) => inFlight.inc(delta),
    countEvents: (next) => (entry) => {
      try {
        count(entry);
      } finally {
        next(entry);
      }
    },
    watchNearCache(stats) {
      for (const [key, help] of [
        ['hits', 'Near-cache reads answered from memory.'],
        ['misses', 'Near-cache reads that went to the store.'],
        [
          'bypassed',
          'Near-cache reads sent to the store while invalidations were not known to arrive.',
        ],
      ] as const) {
        new Counter({
          name: `latchkey_near_cache_${key}_total`,
          help,
          registers,
          collect() {
            totalOf(this, () => stats[key]);
          },
        });
      }
    },
    watchHashing(hashing) {
      new Gauge({
        name: 'latchkey_hashing_queue_depth',
        help: 'Password hashes waiting for a slot.',
        registers,
        collect() {
          this.set(hashing.waiting);
        },
      });
      new Gauge({
        name: 'latchkey_hashing_running',
        help: 'Password hashes being computed.',
        registers,
        collect() {
          this.set(hashing.running);
        },
      });
      const totals = [
        ['queued', 'Password hashes that had to wait for a slot.', () => hashing.queued],
        [
          'wait_seconds',
          'Total time password hashes waited for a slot.',
          () => hashing.waitedMs / 1000,
        ],
        [
          'refused',
          'Password hashes refused with 503 overloaded (the queue was full).',
          () => hashing.refused,
        ],
      ] as const;
      for (const [name, help, read] of totals) {
        new Counter({
          name: `latchkey_hashing_${name}_total`,
          help,
          registers,
          collect() {
            totalOf(this, read);
          },
        });
      }
    },
  };
}

const STORE_BUCKETS = [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Wraps a store once so that every call is timed and every fault counted, by store
 * name and operation (`sessions.getSession`, `limiter.login.consume`, `ping`): the
 * backends are not touched. Faults are re-thrown unchanged (the core's fail-closed
 * guard, in front, still turns them into `503`). Metrics:
 * `latchkey_store_operation_duration_seconds{store,operation,outcome}` and
 * `latchkey_store_errors_total{store,operation}`.
 */
export function withStoreMetrics(store: LatchkeyStore, registry: Registry): LatchkeyStore {
  const duration =
    (registry.getSingleMetric('latchkey_store_operation_duration_seconds') as
      Histogram<'store' | 'operation' | 'outcome'> | undefined) ??
    new Histogram({
      name: 'latchkey_store_operation_duration_seconds',
      help: 'Time a store call took, by store, operation and outcome (ok, error).',
      labelNames: ['store', 'operation', 'outcome'] as const,
      buckets: STORE_BUCKETS,
      registers: [registry],
    });
  const errors =
    (registry.getSingleMetric('latchkey_store_errors_total') as
      Counter<'store' | 'operation'> | undefined) ??
    new Counter({
      name: 'latchkey_store_errors_total',
      help: 'Store calls that failed, by store and operation.',
      labelNames: ['store', 'operation'] as const,
      registers: [registry],
    });
  const name = store.name;

  const timed = <T extends object>(target: T, area: string | null): T => {
    const wrappers = new Map<PropertyKey, { of: unknown; wrapper: unknown }>();
    return new Proxy(target, {
      get(obj, property, receiver) {
        const value: unknown = Reflect.get(obj, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        const cached = wrappers.get(property);
        if (cached?.of === value) return cached.wrapper;
        const operation = area ? `${area}.${property}` : property;
        const wrapper = (...args: unknown[]) => {
          const end = duration.startTimer({ store: name, operation });
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(obj, args);
          } catch (error) {
            end({ outcome: 'error' });
            errors.inc({ store: name, operation });
            throw error;
          }
          if (!(result instanceof Promise)) {
            end({ outcome: 'ok' });
            return result;
          }
          return result.then(
            (answer: unknown) => {
              end({ outcome: 'ok' });
              return answer;
            },
            (error: unknown) => {
              end({ outcome: 'error' });
              errors.inc({ store: name, operation });
              throw error;
            },
          );
        };
        wrappers.set(property, { of: value, wrapper });
        return wrapper;
      },
    });
  };

  const areas = new Map<string, object>();
  const top = timed(store, null);
  return new Proxy(store, {
    get(obj, property, receiver) {
      const value: unknown = Reflect.get(obj, property, receiver);
      if (property === 'rateLimits') {
        const limits = value as LatchkeyStore['rateLimits'];
        return {
          ...limits,
          createLimiter: (options: Parameters<LatchkeyStore['rateLimits']['createLimiter']>[0]) =>
            timed(limits.createLimiter(options), `limiter.${options.name}`),
        };
      }
      if (property === 'close') return value;
      if (property === 'ping') return () => top.ping();
      if (typeof property === 'string' && value && typeof value === 'object') {
        let area = areas.get(property);
        if (!area) areas.set(property, (area = timed(value, property)));
        return area;
      }
      return value;
    },
  });
}

/** The metrics listener: `/metrics` in Prometheus text format, on 127.0.0.1 only. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` from `registry` on `127.0.0.1:port` (loopback only: never the
 * public port or address; a scraper on the host or a sidecar reads it). Anything else
 * is `404`. `port: 0` picks a free port.
 */
export async function serveMetrics(registry: Registry, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
