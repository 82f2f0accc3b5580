import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limiter, LimiterOptions, LimiterState } from './types.js';

/**
 * Adapts a rate-limiter-flexible limiter (memory, SQLite, Redis, PostgreSQL all
 * share its API) to the small `Limiter` interface. Counting is the library's job;
 * the policy (how many hits before `429`) is the core's, so the limiter is created
 * with a ceiling it never reaches and only counts.
 */
export function fromRateLimiterFlexible(limiter: RateLimiterAbstract): Limiter {
  const state = (res: RateLimiterRes): LimiterState => ({
    consumed: res.consumedPoints,
    msBeforeNext: Math.max(0, res.msBeforeNext),
  });
  return {
    async get(key) {
      const res = await limiter.get(key);
      return res === null ? null : state(res);
    },
    async hit(key) {
      return state(await limiter.penalty(key, 1));
    },
    async refund(key) {
      const res = await limiter.get(key);
      if (res !== null && res.consumedPoints > 0) await limiter.reward(key, 1);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

/** The options every backend passes to its rate-limiter-flexible class. */
export function rateLimiterFlexibleOptions(options: LimiterOptions): {
  keyPrefix: string;
  points: number;
  duration: number;
} {
  if (!/^[a-z][a-z0-9-]*$/.test(options.name)) {
    throw new TypeError(
      `limiter name must be lower-case kebab-case, got ${JSON.stringify(options.name)}`,
    );
  }
  return {
    keyPrefix: `latchkey-${options.name}`,
    // Only counts; the core decides when the count is too high.
    points: 2 ** 30,
    duration: Math.max(1, Math.ceil(options.windowMs / 1000)),
  };
}
