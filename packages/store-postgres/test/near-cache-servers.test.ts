import { afterEach, describe, expect, it } from 'vitest';
import { dropSchema, DATABASE_URL, testSchema } from './helpers.js';
import { privatePostgresMissing, startPrivatePostgres } from './private-postgres.js';
import { appServer, registered, signedIn, type AppServer } from './servers.js';

/*
 * Two app servers (two Latchkeys, two stores, two near-caches, two LISTEN/NOTIFY
 * channels) on PostgreSQL only. The propagation tests use the shared server, each in a
 * schema and on a channel of its own; the outage tests kill and restart a PRIVATE
 * PostgreSQL (initdb in a temp folder), never the shared one.
 */

if (privatePostgresMissing !== null) {
  throw new Error(`the near-cache outage tests cannot run: ${privatePostgresMissing}`);
}

// Run in order, last registered first: servers close before their schema is dropped.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `count` app servers on one schema of `storeUrl`, their channels on `channelUrl`. */
async function servers(
  count: number,
  storeUrl: string,
  options: { channelUrl?: string; heartbeatMs?: number } = {},
): Promise<AppServer[]> {
  const schema = testSchema();
  if (storeUrl === DATABASE_URL)
    cleanups.push(async () => {
      await dropSchema(schema);
    });
  const opened: AppServer[] = [];
  for (let i = 0; i < count; i++) {
    const server = await appServer({
      storeUrl,
      schema,
      ...(options.channelUrl ? { channelUrl: options.channelUrl } : {}),
      channelOptions: {
        connectTimeoutMs: 500,
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      },
    });
    cleanups.push(() => server.close());
    opened.push(server);
  }
  await untilHealthy(...opened);
  return opened;
}

async function twoServers(
  storeUrl: string,
  options: { channelUrl?: string; heartbeatMs?: number } = {},
): Promise<[AppServer, AppServer]> {
  const [a, b] = await servers(2, storeUrl, options);
  if (!a || !b) throw new Error('two servers expected');
  return [a, b];
}

async function untilHealthy(...servers: AppServer[]) {
  for (const server of servers) {
    await expect.poll(() => server.channel.healthy(), { timeout: 10_000 }).toBe(true);
  }
}

/** Near-cache lookups of one authenticated request: the session, then its user. */
const LOOKUPS = 2;

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

describe('two app servers, PostgreSQL only, near-cache over LISTEN/NOTIFY', () => {
  it('a session signed out on A is refused on B; reports the propagation bound', async () => {
    const [a, b] = await twoServers(DATABASE_URL);
    const { email } = await registered(a);
    const refused: number[] = [];
    const delivered: number[] = [];
    for (let i = 0; i < 30; i++) {
      const onA = await signedIn(a, email);
      const onB = onA.copy();
      // Warm B's near-cache with this session: the second read is served from memory.
      const { json } = await onB.send(b, 'GET', '/auth/session');
      const sessionId: string = json.session.id;
      const hits = b.cache.stats.hits;
      expect((await onB.send(b, 'GET', '/auth/session')).status).toBe(200);
      expect(b.cache.stats.hits).toBe(hits + LOOKUPS);

      expect((await onA.send(a, 'POST', '/auth/logout')).status).toBe(204);
      const loggedOutAt = performance.now();
      await expect
        .poll(async () => (await onB.send(b, 'GET', '/auth/session')).status, {
          timeout: 1000,
          interval: 1,
        })
        .toBe(401);
      refused.push(performance.now() - loggedOutAt);
      delivered.push((b.arrivals.get(sessionId) ?? Number.NaN) - loggedOutAt);
    }
    const report = (values: number[]) => {
      const sorted = [...values].sort((x, y) => x - y);
      const at = (q: number) => percentile(sorted, q).toFixed(2);
      return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`;
    };
    console.log(
      `PostgreSQL near-cache, 30 sign-outs on A: B refused the cookie ${report(refused)} ` +
        `after the logout answer (the message reached B's cache ${report(delivered)} after it)`,
    );
    expect(Math.max(...refused)).toBeLessThan(1000);
  });

  it('"sign out everywhere else" on A (a user-wide message) is refused on B', async () => {
    const [a, b] = await twoServers(DATABASE_URL);
    const { browser: first, email } = await registered(a);
    const second = (await signedIn(a, email)).copy();
    for (let i = 0; i < 2; i++)
      expect((await second.send(b, 'GET', '/auth/session')).status).toBe(200);
    expect((await first.send(a, 'DELETE', '/auth/sessions')).status).toBeLessThan(300);
    await expect
      .poll(async () => (await second.send(b, 'GET', '/auth/session')).status, { timeout: 1000 })
      .toBe(401);
    expect((await first.copy().send(b, 'GET', '/auth/session')).status).toBe(200);
  });

  it('PostgreSQL killed: cached sessions are not served (503), and the same servers recover after its restart', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.stop());
    const [a, b] = await twoServers(pg.url);
    const { browser } = await registered(a);
    const onB = browser.copy();
    for (let i = 0; i < 2; i++)
      expect((await onB.send(b, 'GET', '/auth/session')).status).toBe(200);
    expect(b.cache.stats.hits).toBeGreaterThan(0);

    await pg.kill();
    // The listener learns at once (the kernel closes its socket) and B serves nothing
    // from memory; every answer is a 503, never the cached 200.
    await expect.poll(() => b.channel.healthy(), { timeout: 2000 }).toBe(false);
    const hits = b.cache.stats.hits;
    for (let i = 0; i < 5; i++) {
      const reply = await onB.send(b, 'GET', '/auth/session');
      expect({ status: reply.status, code: reply.code }).toEqual({
        status: 503,
        code: 'store_unavailable',
      });
    }
    expect(b.cache.stats.hits).toBe(hits);
    expect(b.cache.stats.bypassed).toBeGreaterThan(0);

    await pg.restart();
    await expect
      .poll(async () => (await onB.send(b, 'GET', '/auth/session')).status, { timeout: 20_000 })
      .toBe(200);
    await untilHealthy(a, b);
    // Served from memory again…
    await onB.send(b, 'GET', '/auth/session');
    const again = b.cache.stats.hits;
    expect((await onB.send(b, 'GET', '/auth/session')).status).toBe(200);
    expect(b.cache.stats.hits).toBe(again + LOOKUPS);
    // …and revocations travel again.
    expect((await browser.send(a, 'POST', '/auth/logout')).status).toBe(204);
    await expect
      .poll(async () => (await onB.send(b, 'GET', '/auth/session')).status, { timeout: 1000 })
      .toBe(401);
  });

  it('only the channel down (store fine): fresh reads, a revoke is 503 yet refused everywhere, caches dropped on reconnect', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.stop());
    const [a, b, c] = await servers(3, DATABASE_URL, { channelUrl: pg.url });
    if (!a || !b || !c) throw new Error('three servers expected');
    const { browser: first, email } = await registered(a);
    const revoked = first.copy();
    const kept = (await signedIn(a, email)).copy();
    const revokedId: string = (await revoked.send(b, 'GET', '/auth/session')).json.session.id;
    for (const [browser, server] of [
      [revoked, b],
      [kept, b],
      [kept, b],
      [kept, c],
      [kept, c],
    ] as const) {
      expect((await browser.send(server, 'GET', '/auth/session')).status).toBe(200);
    }

    await pg.kill();
    await expect.poll(() => b.channel.healthy(), { timeout: 2000 }).toBe(false);
    // The session still works, read from the store, not from memory.
    const { hits, misses } = b.cache.stats;
    expect((await revoked.send(b, 'GET', '/auth/session')).status).toBe(200);
    expect(b.cache.stats.hits).toBe(hits);
    expect(b.cache.stats.misses).toBe(misses);
    // A's sign-out is written but cannot be published: it answers 503 (the user may
    // retry), and B refuses the session, because it reads the store.
    const logout = await first.send(a, 'POST', '/auth/logout');
    expect({ status: logout.status, code: logout.code }).toEqual({
      status: 503,
      code: 'store_unavailable',
    });
    expect(await a.store.sessions.getSession(revokedId)).toBeNull();
    expect((await revoked.send(b, 'GET', '/auth/session')).status).toBe(401);

    await pg.restart();
    await untilHealthy(a, b, c);
    // A re-sends its undelivered sign-out in the background, then serves from memory again.
    await expect
      .poll(
        async () => {
          const h = a.cache.stats.hits;
          await kept.send(a, 'GET', '/auth/session');
          return a.cache.stats.hits > h;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    // Whatever A sent has reached C by now (notifications arrive in commit order).
    await a.channel.publish({ kind: 'session', id: 'marker' });
    await expect.poll(() => c.arrivals.has('marker'), { timeout: 2000 }).toBe(true);
    // C was asked nothing during the outage, yet what it had cached is gone: the
    // reconnection flushed it, so its first read is a miss.
    const { hits: h0, misses: m0 } = c.cache.stats;
    expect((await kept.send(c, 'GET', '/auth/session')).status).toBe(200);
    expect(c.cache.stats).toMatchObject({ hits: h0, misses: m0 + LOOKUPS });
    expect((await kept.send(c, 'GET', '/auth/session')).status).toBe(200);
    expect(c.cache.stats.hits).toBe(h0 + LOOKUPS);
  });

  it('PostgreSQL frozen under the channel: B stops serving from memory within heartbeat + timeout', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(async () => {
      pg.resume();
      await pg.stop();
    });
    const [a, b] = await twoServers(DATABASE_URL, { channelUrl: pg.url, heartbeatMs: 250 });
    const { browser } = await registered(a);
    const onB = browser.copy();
    for (let i = 0; i < 2; i++)
      expect((await onB.send(b, 'GET', '/auth/session')).status).toBe(200);

    pg.freeze();
    const frozenAt = performance.now();
    await expect.poll(() => b.channel.healthy(), { timeout: 3000, interval: 10 }).toBe(false);
    const noticed = performance.now() - frozenAt;
    const hits = b.cache.stats.hits;
    expect((await onB.send(b, 'GET', '/auth/session')).status).toBe(200);
    expect(b.cache.stats.hits).toBe(hits);
    console.log(
      `frozen PostgreSQL noticed by the listener after ${noticed.toFixed(0)} ms (bound 1250 ms)`,
    );
    expect(noticed).toBeLessThan(1250 + 250);

    pg.resume();
    await untilHealthy(a, b);
    await onB.send(b, 'GET', '/auth/session');
    const again = b.cache.stats.hits;
    await onB.send(b, 'GET', '/auth/session');
    expect(b.cache.stats.hits).toBe(again + LOOKUPS);
  });
});
