import { describe, expect, it } from 'vitest';
import { createBoundedCache } from './bounded-cache.js';

describe('bounded cache', () => {
  it('keeps at most its size, forgetting the oldest first', () => {
    const cache = createBoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3); // a key already there takes no room
    expect([cache.get('a'), cache.get('b')]).toEqual([3, 2]);
    cache.set('c', 4);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 4]);
  });

  it('with size 0 keeps nothing', () => {
    const cache = createBoundedCache<number>(0);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});
