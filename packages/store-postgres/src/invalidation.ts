import type { Invalidation, InvalidationChannel } from '@latchkey/core/store-kit';
import { Client, escapeIdentifier, Pool } from 'pg';
import { positiveInteger } from './connection.js';

export interface PostgresInvalidationOptions {
  /** `postgres://` URL of the database all app servers share (a direct or session-pooled connection: LISTEN does not survive transaction pooling). */
  connectionString: string;
  /**
   * LISTEN/NOTIFY channel: letters, digits, `_`, `.`, `:`, `-`, at most 63 bytes. NOTIFY is
   * scoped to one database; deployments sharing one had better use different names
   * (sharing is safe: a server evicts ids it never cached).
   * @default 'latchkey_invalidate'
   */
  channel?: string;
  /** Limit for a NOTIFY, and for the listener's LISTEN and heartbeat. @default 1000 */
  commandTimeoutMs?: number;
  /** Limit for opening a connection. @default 2000 */
  connectTimeoutMs?: number;
  /**
   * How often the listener proves its connection alive. A connection that dropped
   * without a word (a partition, a frozen server) is noticed, and the channel reported
   * unhealthy, at most `heartbeatMs + commandTimeoutMs` after its last answer. @default 1000
   */
  heartbeatMs?: number;
  /** Connection errors (expected during outages). @default ignored */
  onError?: (error: Error) => void;
}

/** NOTIFY refuses a payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;
const CHANNEL_NAME = /^[A-Za-z0-9_.:-]{1,63}$/;
/** Sent instead of a message too long for one payload: every receiver flushes. */
const FLUSH_ALL = '{"kind":"all"}';
/** First and longest wait between the listener's reconnection attempts. */
const RECONNECT_FIRST_MS = 50;
const RECONNECT_MAX_MS = 2000;

const isInvalidation = (value: unknown): value is Invalidation => {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, id } = value as Record<string, unknown>;
  return (kind === 'session' || kind === 'user') && typeof id === 'string';
};

/**
 * The messages of one payload, or null for anything else (a flush marker, another
 * version's format, a stranger on the channel): the receiver must then flush.
 */
function parsePayload(payload: string | undefined): Invalidation[] | null {
  try {
    const parsed: unknown = JSON.parse(payload ?? '');
    return Array.isArray(parsed) && parsed.every(isInvalidation) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Packs messages into JSON-array payloads under NOTIFY's limit, in order. Returns, per
 * payload, the indexes of the messages it carries. A message that cannot fit on its
 * own (an id of several kilobytes, which Latchkey never makes) travels as a flush marker.
 */
export function packPayloads(
  messages: readonly Invalidation[],
): { payload: string; members: number[] }[] {
  const packed: { payload: string; members: number[] }[] = [];
  let entries: string[] = [];
  let members: number[] = [];
  let bytes = 2; // the brackets
  const seal = () => {
    if (entries.length > 0) packed.push({ payload: `[${entries.join(',')}]`, members });
    entries = [];
    members = [];
    bytes = 2;
  };
  messages.forEach((message, index) => {
    let entry = JSON.stringify({ kind: message.kind, id: message.id });
    if (Buffer.byteLength(entry) + 2 > MAX_PAYLOAD_BYTES) entry = FLUSH_ALL;
    const size = Buffer.byteLength(entry);
    if (entries.length > 0 && bytes + 1 + size > MAX_PAYLOAD_BYTES) seal();
    bytes += (entries.length > 0 ? 1 : 0) + size;
    entries.push(entry);
    members.push(index);
  });
  seal();
  return packed;
}

interface Pending {
  message: Invalidation;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Cross-server invalidation for the near-cache over PostgreSQL LISTEN/NOTIFY, for
 * deployments with PostgreSQL and no Redis. Same contract as the Redis channel:
 * healthy only while the listener is connected, listening, and has answered a
 * heartbeat within `heartbeatMs + commandTimeoutMs`; every (re)LISTEN, and every
 * return from such a silence, tells the cache to flush, because notifications sent
 * during a gap are lost. A payload it cannot read (a flush marker, a stranger on the
 * channel) also flushes. The listener is one dedicated connection that reconnects by
 * itself (50 ms doubling to 2 s); publishing goes over a one-connection pool of its
 * own, and messages published while a NOTIFY is in flight go together in the next
 * one, packed into payloads under NOTIFY's 8000-byte limit. A publish rejects (never
 * queues) when PostgreSQL cannot be reached within the limits.
 *
 * @param options.connectionString PostgreSQL URL.
 * @param options.channel LISTEN/NOTIFY channel name. @default 'latchkey_invalidate'
 * @param options.commandTimeoutMs Limit for NOTIFY, LISTEN and the heartbeat. @default 1000
 * @param options.connectTimeoutMs Limit for opening a connection. @default 2000
 * @param options.heartbeatMs Interval of the listener's liveness check. @default 1000
 * @param options.onError Receives connection errors. @default ignored
 */
export function createPostgresInvalidationChannel(
  options: PostgresInvalidationOptions,
): InvalidationChannel {
  const channel = options.channel ?? 'latchkey_invalidate';
  if (!CHANNEL_NAME.test(channel)) {
    throw new TypeError(
      `channel must be 1 to 63 letters, digits, _, ., : or -, got ${JSON.stringify(channel)}`,
    );
  }
  const commandTimeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 1000);
  const connectTimeoutMs = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 2000);
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs ?? 1000);
  const onError = options.onError ?? (() => undefined);
  const connection = {
    connectionString: options.connectionString,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: commandTimeoutMs,
    statement_timeout: commandTimeoutMs,
    keepAlive: true,
  };
  /** Longest silence of a live listener: a heartbeat's wait plus its time limit. */
  const silenceLimitMs = heartbeatMs + commandTimeoutMs;

  const publisher = new Pool({ ...connection, max: 1, application_name: 'latchkey-notify' });
  publisher.on('error', onError);

  let closed = false;
  /** The listener connection is up and LISTENing. */
  let listening = false;
  /** When the listener last proved alive (performance.now()). */
  let aliveAt = Number.NEGATIVE_INFINITY;
  let onMessage: ((message: Invalidation) => void) | undefined;
  let onReset: (() => void) | undefined;
  let listener: { client: Client; end: () => Promise<void> } | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;

  const receive = (payload: string | undefined) => {
    const messages = parsePayload(payload);
    if (messages === null) {
      onReset?.();
      return;
    }
    for (const message of messages) onMessage?.(message);
  };

  const reconnect = () => {
    if (closed || reconnectTimer !== undefined) return;
    const delay = Math.min(RECONNECT_FIRST_MS * 2 ** attempt, RECONNECT_MAX_MS);
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listen();
    }, delay);
    reconnectTimer.unref();
  };

  /** Opens the listener connection; on any failure it is torn down and retried. */
  const listen = () => {
    if (closed) return;
    const client = new Client({ ...connection, application_name: 'latchkey-listen' });
    let done = false;
    let beatTimer: ReturnType<typeof setTimeout> | undefined;
    /** Tears this connection down for good: never delivers or beats again. */
    const finish = () => {
      done = true;
      clearTimeout(beatTimer);
      if (listener?.client === client) {
        listener = undefined;
        listening = false;
      }
    };
    const lost = (error?: unknown) => {
      if (done) return;
      finish();
      if (error instanceof Error) onError(error);
      client.connection.stream.destroy();
      reconnect();
    };
    const beat = () => {
      beatTimer = setTimeout(() => {
        client.query('SELECT 1').then(() => {
          if (done) return;
          const now = performance.now();
          // It looked unhealthy meanwhile: drop what may have been cached around the gap.
          if (now - aliveAt >= silenceLimitMs) onReset?.();
          aliveAt = now;
          beat();
        }, lost);
      }, heartbeatMs);
      beatTimer.unref();
    };
    listener = {
      client,
      async end() {
        finish();
        const ended = client.end().catch(() => undefined);
        const bound = new Promise((resolve) => setTimeout(resolve, commandTimeoutMs).unref());
        await Promise.race([ended, bound]);
        client.connection.stream.destroy();
      },
    };
    // Connection errors are expected during outages; they must never crash the process.
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (notification) => {
      if (!done && notification.channel === channel) receive(notification.payload);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${escapeIdentifier(channel)}`))
      .then(() => {
        if (done) return;
        attempt = 0;
        aliveAt = performance.now();
        // Whatever was published while nobody listened is lost: the cache starts empty.
        onReset?.();
        listening = true;
        beat();
      }, lost);
  };
  listen();

  const queue: Pending[] = [];
  let sending = false;
  /** Sends what is queued; what arrives meanwhile goes in the next round, together. */
  const drain = async () => {
    sending = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, queue.length);
        for (const { payload, members } of packPayloads(batch.map((p) => p.message))) {
          try {
            await publisher.query('SELECT pg_notify($1, $2)', [channel, payload]);
            for (const i of members) batch[i]?.resolve();
          } catch (error) {
            for (const i of members) batch[i]?.reject(error);
          }
        }
      }
    } finally {
      sending = false;
    }
  };

  return {
    publish(message) {
      if (closed) return Promise.reject(new Error('invalidation channel closed'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        if (!sending) void drain();
      });
    },
    subscribe(handleMessage, handleReset) {
      onMessage = handleMessage;
      onReset = handleReset;
    },
    healthy: () => !closed && listening && performance.now() - aliveAt < silenceLimitMs,
    async close() {
      if (closed) return;
      closed = true;
      listening = false;
      clearTimeout(reconnectTimer);
      await Promise.allSettled([listener?.end(), publisher.end()]);
    },
  };
}
