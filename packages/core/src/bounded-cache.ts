/**
 * A map of at most `entries` values that forgets the oldest first (Map iterates in
 * insertion order). For results that are pure functions of their key (a verified
 * cookie, a session's anti-forgery token), kept so a hot request skips the HMAC.
 * `entries` 0 keeps nothing.
 */
export interface BoundedCache<V, K = string> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
}

export function createBoundedCache<V, K = string>(entries: number): BoundedCache<V, K> {
  const values = new Map<K, V>();
  return {
    get: (key) => values.get(key),
    set(key, value) {
      if (entries === 0) return;
      if (values.size >= entries && !values.has(key)) {
        const oldest = values.keys().next();
        if (!oldest.done) values.delete(oldest.value);
      }
      values.set(key, value);
    },
  };
}
