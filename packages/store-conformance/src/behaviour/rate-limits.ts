import { describe, expect, it } from 'vitest';
import { MINUTE, unique } from '../fixtures.js';
import type { CurrentStore } from '../under-test.js';

/** Rate limits: counting, refunds, separate keys and names, counts kept in the backend, windows. */
export function describeRateLimits(t: CurrentStore): void {
  describe('rate limits', () => {
    const windowMs = 15 * MINUTE;
    const limiter = (limiterName = unique('limit')) =>
      t.store.rateLimits.createLimiter({ name: limiterName, windowMs });

    it('counts hits in a window, reports the time left and resets', async () => {
      const counter = limiter();
      const key = unique('key');

      expect(await counter.get(key)).toBeNull();
      expect((await counter.hit(key)).consumed).toBe(1);
      expect((await counter.hit(key)).consumed).toBe(2);
      const third = await counter.hit(key);
      expect(third.consumed).toBe(3);
      expect(third.msBeforeNext).toBeGreaterThan(0);
      expect(third.msBeforeNext).toBeLessThanOrEqual(windowMs);

      const state = await counter.get(key);
      expect(state?.consumed).toBe(3);
      expect(state?.msBeforeNext).toBeGreaterThan(windowMs - MINUTE);

      await counter.reset(key);
      expect(await counter.get(key)).toBeNull();
      expect((await counter.hit(key)).consumed).toBe(1);
    });

    it('takes a hit back on refund, never below zero', async () => {
      const counter = limiter();
      const key = unique('key');
      await counter.hit(key);
      await counter.hit(key);
      await counter.refund(key);
      expect((await counter.get(key))?.consumed).toBe(1);
      await counter.refund(key);
      await counter.refund(key);
      expect((await counter.get(key))?.consumed ?? 0).toBe(0);
      expect((await counter.hit(key)).consumed).toBe(1);
      await counter.refund(unique('never-hit'));
    });

    it('keeps separate keys and separate limiter names apart', async () => {
      const name = unique('limit');
      const a = limiter(name);
      const b = limiter(unique('limit'));
      const key = unique('key');
      const otherKey = unique('key');

      await a.hit(key);
      await a.hit(key);
      await a.hit(otherKey);
      await b.hit(key);

      expect((await a.get(key))?.consumed).toBe(2);
      expect((await a.get(otherKey))?.consumed).toBe(1);
      expect((await b.get(key))?.consumed).toBe(1);
      expect(await b.get(otherKey)).toBeNull();

      await a.reset(key);
      expect((await b.get(key))?.consumed).toBe(1);
    });

    it('keeps the count in the backend: a second limiter with the same name sees it', async () => {
      const name = unique('limit');
      const key = unique('key');
      await limiter(name).hit(key);
      await limiter(name).hit(key);

      expect((await limiter(name).get(key))?.consumed).toBe(2);
      expect((await limiter(name).hit(key)).consumed).toBe(3);
    });

    it('starts a new window once the old one has passed', async () => {
      const counter = t.store.rateLimits.createLimiter({ name: unique('limit'), windowMs: 1000 });
      const key = unique('key');
      await counter.hit(key);
      expect((await counter.hit(key)).consumed).toBe(2);

      await new Promise((resolve) => setTimeout(resolve, 1100));

      expect(await counter.get(key)).toBeNull();
      expect((await counter.hit(key)).consumed).toBe(1);
    });

    it('refuses a limiter name that is not lower-case kebab-case', () => {
      expect(() => t.store.rateLimits.createLimiter({ name: 'Login Account', windowMs })).toThrow(
        TypeError,
      );
    });
  });
}
