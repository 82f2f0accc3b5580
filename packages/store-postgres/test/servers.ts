import { createLatchkey, CSRF_HEADER, type Latchkey } from '@latchkey/core';
import {
  withNearCache,
  type InvalidationChannel,
  type LatchkeyStore,
  type NearCacheStats,
} from '@latchkey/core/store-kit';
import {
  createPostgresInvalidationChannel,
  type PostgresInvalidationOptions,
} from '../src/invalidation.js';
import { createPostgresStore, type PostgresStore } from '../src/index.js';

/*
 * App servers in one process, as a PostgreSQL-only deployment runs them: each one a
 * Latchkey over its own PostgreSQL store (its own pool) behind its own near-cache,
 * invalidated over its own LISTEN/NOTIFY channel.
 */

export const ORIGIN = 'https://app.example.test';
export const PASSWORD = 'correct horse battery staple';

export interface AppServer {
  latchkey: Latchkey;
  store: PostgresStore;
  channel: InvalidationChannel;
  cache: LatchkeyStore & { readonly stats: NearCacheStats };
  /** When (performance.now()) each message reached this server's cache, by id. */
  arrivals: Map<string, number>;
  close(): Promise<void>;
}

export interface AppServerOptions {
  /** Where the store lives. */
  storeUrl: string;
  schema: string;
  /** Where the channel listens and notifies. @default storeUrl */
  channelUrl?: string;
  /** Channel name. @default schema */
  channel?: string;
  channelOptions?: Partial<PostgresInvalidationOptions>;
  /** @default 30000 */
  maxAgeMs?: number;
}

export async function appServer(options: AppServerOptions): Promise<AppServer> {
  const store = await createPostgresStore({
    connectionString: options.storeUrl,
    schema: options.schema,
    max: 4,
    statementTimeoutMs: 1000,
    connectTimeoutMs: 1000,
  });
  const channel = createPostgresInvalidationChannel({
    connectionString: options.channelUrl ?? options.storeUrl,
    channel: options.channel ?? options.schema,
    ...options.channelOptions,
  });
  const arrivals = new Map<string, number>();
  const observed: InvalidationChannel = {
    publish: (message) => channel.publish(message),
    subscribe: (onMessage, onReset) =>
      channel.subscribe((message) => {
        arrivals.set(message.id, performance.now());
        onMessage(message);
      }, onReset),
    healthy: () => channel.healthy(),
    close: () => channel.close(),
  };
  const cache = withNearCache(store, observed, { maxAgeMs: options.maxAgeMs ?? 30_000 });
  const latchkey = createLatchkey({
    store: cache,
    secrets: ['near-cache-test-secret-0123456789abcdef'],
    publicUrl: ORIGIN,
    logger: () => undefined,
  });
  return { latchkey, store, channel, cache, arrivals, close: () => cache.close() };
}

export interface Reply {
  status: number;
  code: string | undefined;
  json: any;
}

/** A browser: a cookie jar, same-origin headers, the anti-forgery token on unsafe requests. */
export class Browser {
  readonly jar = new Map<string, string>();
  csrfToken: string | null = null;

  constructor(readonly ip = '192.0.2.10') {}

  /** The same cookies in another browser object (the same user reaching another server). */
  copy(): Browser {
    const other = new Browser(this.ip);
    for (const [name, value] of this.jar) other.jar.set(name, value);
    other.csrfToken = this.csrfToken;
    return other;
  }

  async send(server: AppServer, method: string, path: string, json?: unknown): Promise<Reply> {
    const headers = new Headers({ origin: ORIGIN, 'sec-fetch-site': 'same-origin' });
    if (this.jar.size > 0) {
      headers.set('cookie', [...this.jar].map(([n, v]) => `${n}=${v}`).join('; '));
    }
    if (method !== 'GET' && this.csrfToken) headers.set(CSRF_HEADER, this.csrfToken);
    if (json !== undefined) headers.set('content-type', 'application/json');
    const response = await server.latchkey.handle(
      new Request(ORIGIN + path, {
        method,
        headers,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      }),
      { remoteAddress: this.ip },
    );
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/max-age=0\b/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
    const text = await response.text();
    const body: any = text === '' ? null : JSON.parse(text);
    if (path === '/auth/session' && response.status === 200) this.csrfToken = body.csrfToken;
    return { status: response.status, code: body?.error?.code, json: body };
  }
}

let emails = 0;
export const uniqueEmail = () => `user.${++emails}.${Date.now()}@example.test`;

/** Registers on `server` and fetches the anti-forgery token; returns the browser and email. */
export async function registered(server: AppServer): Promise<{ browser: Browser; email: string }> {
  const browser = new Browser();
  const email = uniqueEmail();
  const reply = await browser.send(server, 'POST', '/auth/register', { email, password: PASSWORD });
  if (reply.status !== 201) throw new Error(`register answered ${reply.status} ${reply.code}`);
  await browser.send(server, 'GET', '/auth/session');
  return { browser, email };
}

/** Signs in to an existing account on `server` (another device). */
export async function signedIn(server: AppServer, email: string): Promise<Browser> {
  const browser = new Browser('198.51.100.7');
  const reply = await browser.send(server, 'POST', '/auth/login', { email, password: PASSWORD });
  if (reply.status !== 200) throw new Error(`login answered ${reply.status} ${reply.code}`);
  await browser.send(server, 'GET', '/auth/session');
  return browser;
}
