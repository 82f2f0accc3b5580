/** The near-cache's options and the channel it listens on (see withNearCache). */

/** What one server tells the others when a session or user changes. */
export type Invalidation = { kind: 'session'; id: string } | { kind: 'user'; id: string };

/**
 * A broadcast channel between app servers (Redis pub/sub in production). `healthy`
 * is true only while messages are known to arrive: after a disconnect, messages
 * may have been missed, so the cache must not serve until it has been flushed.
 */
export interface InvalidationChannel {
  publish(message: Invalidation): Promise<void>;
  /** Registers the handler; `onReset` is called whenever delivery (re)starts after a gap. */
  subscribe(onMessage: (message: Invalidation) => void, onReset: () => void): void;
  healthy(): boolean;
  close(): Promise<void>;
}

export interface NearCacheOptions {
  /**
   * Longest an entry is served without re-reading the store. Also the bound on how
   * long another server may serve a revoked session when a publish fails (see
   * `withNearCache`). @default 30000
   */
  maxAgeMs?: number;
  /** Entries kept at most; the oldest go first. @default 50000 */
  maxEntries?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

export interface NearCacheStats {
  hits: number;
  misses: number;
  bypassed: number;
}
