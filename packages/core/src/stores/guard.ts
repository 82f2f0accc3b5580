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
  const refuse = (method: string, error: unknown): never => {
    if (error instanceof LatchkeyError) throw error;
    logger?.({
      event: 'store_unavailable',
      operation: `${area}.${method}`,
      error: error instanceof Error ? error.name : 'unknown',
      time: new Date(now()).toISOString(),
    });
    throw fail('store_unavailable', { cause: error });
  };
  // The wrappers are made once, here, on an object whose prototype is the target (so
  // anything else is read from it), rather than through a Proxy: this sits on every
  // request's path, and a Proxy's get trap plus an async wrapper per call cost more
  // than the store lookup the near-cache answers from memory. Each call reads the
  // method from the target, so one replaced later (a test's fault) is still guarded.
  const guarded = Object.create(target) as Record<string, unknown>;
  const methods = target as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of methodNames(target)) {
    const onFault = (error: unknown) => refuse(name, error);
    guarded[name] = (...args: unknown[]): Promise<unknown> => {
      let pending: unknown;
      try {
        pending = (methods[name] as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        // A synchronous throw still reaches the caller as a rejection, like an async method's.
        return new Promise(() => refuse(name, error));
      }
      return Promise.resolve(pending).catch(onFault);
    };
  }
  return guarded as T;
}

/** The target's methods, own and inherited (a class's), up to Object.prototype. */
function methodNames(target: object): Set<string> {
  const names = new Set<string>();
  for (
    let level: object | null = target;
    level !== null && level !== Object.prototype;
    level = Object.getPrototypeOf(level) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(level, name);
      if (typeof descriptor?.value === 'function') names.add(name);
    }
  }
  return names;
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
