import { fail, LatchkeyError } from '../errors.js';
import type { SecurityLogger } from '../log.js';
import type { LatchkeyStore, Limiter } from './types.js';

/**
 * Wraps an object whose async methods reach a backend (a store, the app's own data
 * layer) so that any fault becomes `503 store_unavailable`: refused, never let
 * through. The original error is kept as `cause` and logged by name only (a driver's
 * message may quote SQL or a connection string).
 */
export function failClosed<T extends object>(
  target: T,
  area: string,
  logger?: SecurityLogger,
  now: () => number = Date.now,
): T {
  // One wrapper per method, made on first use: this sits on every request's path.
  const wrappers = new Map<PropertyKey, { of: unknown; wrapper: unknown }>();
  return new Proxy(target, {
    get(obj, property, receiver) {
      const value: unknown = Reflect.get(obj, property, receiver);
      if (typeof value !== 'function') return value;
      const cached = wrappers.get(property);
      if (cached?.of === value) return cached.wrapper;
      const wrapper = async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } catch (error) {
          if (error instanceof LatchkeyError) throw error;
          logger?.({
            event: 'store_unavailable',
            operation: `${area}.${String(property)}`,
            error: error instanceof Error ? error.name : 'unknown',
            time: new Date(now()).toISOString(),
          });
          throw fail('store_unavailable', { cause: error });
        }
      };
      wrappers.set(property, { of: value, wrapper });
      return wrapper;
    },
  });
}

/**
 * Wraps a store so that any fault it throws becomes `503 store_unavailable`: the
 * request is refused, never let through (fail closed). The original error is kept
 * as `cause` for debugging and logged by name only (a driver's message may quote
 * SQL or a connection string).
 */
export function guardStore(
  store: LatchkeyStore,
  logger: SecurityLogger | undefined,
  now: () => number = Date.now,
): LatchkeyStore {
  const guard = <T extends object>(target: T, area: string): T =>
    failClosed(target, area, logger, now);

  return {
    name: store.name,
    users: guard(store.users, 'users'),
    sessions: guard(store.sessions, 'sessions'),
    records: guard(store.records, 'records'),
    rateLimits: {
      createLimiter: (options): Limiter =>
        guard(store.rateLimits.createLimiter(options), `limiter.${options.name}`),
    },
    ping: () => guard(store, 'store').ping(),
    close: () => store.close(),
  };
}
