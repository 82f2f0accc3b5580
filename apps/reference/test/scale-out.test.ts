import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSigningJwk } from '@latchkey/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  freePort,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  type TestServer,
} from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const shared = { LATCHKEY_REDIS_URL: REDIS_URL, DATABASE_URL };

/**
 * Signs `n` fresh accounts in on A, warms B's near-cache with each session, signs out
 * on A and polls B until it refuses (401 within 1 s). The times from A's logout answer
 * to B's refusal, sorted.
 */
async function signOutPropagation(a: TestServer, b: TestServer, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const { agent } = await registered(a.url);
    const onB = new Agent(b.url);
    for (const [k, v] of agent.cookies) onB.cookies.set(k, v);
    // Twice: the second answer comes from B's near-cache.
    expect((await onB.request('GET', '/auth/session')).status).toBe(200);
    expect((await onB.request('GET', '/auth/session')).status).toBe(200);
    expect((await agent.unsafe('POST', '/auth/logout')).status).toBe(204);
    const loggedOutAt = performance.now();
    await expect
      .poll(async () => (await onB.request('GET', '/auth/session')).status, {
        timeout: 1000,
        interval: 1,
      })
      .toBe(401);
    times.push(performance.now() - loggedOutAt);
  }
  return times.sort((x, y) => x - y);
}

/** Two app servers sharing Redis and PostgreSQL, as behind a load balancer. */
async function pair(env: Record<string, string> = {}): Promise<[TestServer, TestServer]> {
  return Promise.all([
    startTestServer({ ...shared, ...env }),
    startTestServer({ ...shared, ...env }),
  ]);
}

describe('many app servers on Redis + PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await pair({ LATCHKEY_NEAR_CACHE: '30s' });
  });
  afterAll(async () => {
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('a session made on server A works on server B', async () => {
    const { agent } = await registered(a.url);
    const onB = new Agent(b.url);
    for (const [k, v] of agent.cookies) onB.cookies.set(k, v);
    const reply = await onB.request('GET', '/auth/session');
    expect(reply.status).toBe(200);
    expect((await onB.unsafe('POST', '/api/notes', { text: 'written via B' })).status).toBe(201);
    expect((await agent.request('GET', '/api/notes')).json.notes).toHaveLength(1);
  });

  it('sign-out on A is refused on B (near-cache on both) within the bound; reports the propagation time', async () => {
    const times = await signOutPropagation(a, b, 100);
    console.log(
      `revocation seen on the other server after the logout answer (100 sign-outs): p50 ${times[49]?.toFixed(2)} ms, p99 ${times[98]?.toFixed(2)} ms, max ${times[99]?.toFixed(2)} ms`,
    );
  });

  it('the login rate limit is shared across servers', async () => {
    await using c = await startTestServer({ ...shared, LATCHKEY_LOGIN_LIMIT: '2' });
    await using d = await startTestServer({ ...shared, LATCHKEY_LOGIN_LIMIT: '2' });
    const { email } = await registered(c.url);
    const attempt = (server: TestServer, password: string) =>
      new Agent(server.url).request('POST', '/auth/login', { json: { email, password } });
    expect((await attempt(c, 'wrong password, first try')).status).toBe(401);
    expect((await attempt(d, 'wrong password, second try')).status).toBe(401);
    expect((await attempt(d, GOOD_PASSWORD)).status).toBe(429);
    expect((await attempt(c, GOOD_PASSWORD)).status).toBe(429);
  });
});

describe('many app servers on PostgreSQL alone (near-cache over LISTEN/NOTIFY)', () => {
  it('sign-out on A is refused on B within the bound; reports the propagation time', async () => {
    const env = { DATABASE_URL, LATCHKEY_NEAR_CACHE: '30s' };
    await using a = await startTestServer(env);
    await using b = await startTestServer(env);
    expect(a.description).toContain('near-cache');
    const times = await signOutPropagation(a, b, 30);
    console.log(
      `PostgreSQL-only: revocation seen on the other server after the logout answer (30 sign-outs): p50 ${times[14]?.toFixed(2)} ms, max ${times[29]?.toFixed(2)} ms`,
    );
  });
});

describe('token mode across servers', () => {
  it('a refresh rotated on A and replayed on B revokes the family', async () => {
    const keys = JSON.stringify({ keys: [await generateSigningJwk('EdDSA')] });
    // Behind one proxy both servers share the public URL, and so the token issuer and audience.
    const [a, b] = await pair({
      LATCHKEY_PUBLIC_URL: 'https://app.example.test',
      LATCHKEY_MODE: 'token',
      LATCHKEY_SIGNING_KEYS: keys,
      LATCHKEY_REFRESH_RETRY_WINDOW: '1s',
    });
    try {
      const agent = new Agent(a.url);
      const reply = await agent.request('POST', '/auth/register', {
        json: { email: `fam${Date.now()}@example.com`, password: GOOD_PASSWORD },
      });
      expect(reply.status).toBe(201);
      const stolen = agent.cookies.get('__Host-Http-refresh') ?? '';
      expect((await agent.request('POST', '/auth/refresh')).status).toBe(200);
      // B verifies A's access tokens with the shared keys.
      const token = (await agent.request('POST', '/auth/refresh')).json.accessToken as string;
      const onB = await new Agent(b.url).request('GET', '/api/notes', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(onB.status).toBe(200);
      await sleep(1100);
      const thief = new Agent(b.url);
      thief.cookies.set('__Host-Http-refresh', stolen);
      const replay = await thief.request('POST', '/auth/refresh');
      expect(replay.status).toBe(401);
      expect(replay.json.error.code).toBe('token_reused');
      expect((await agent.request('POST', '/auth/refresh')).status).toBe(401);
      expect(b.events.some((e) => e.event === 'refresh_reused')).toBe(true);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});

describe('token mode across servers: an access token dies with its session', () => {
  it('after sign-out on A, B refuses the bearer token within the bound (near-cache on both); reports the time', async () => {
    const keys = JSON.stringify({ keys: [await generateSigningJwk('EdDSA')] });
    const [a, b] = await pair({
      LATCHKEY_PUBLIC_URL: 'https://app.example.test',
      LATCHKEY_MODE: 'token',
      LATCHKEY_SIGNING_KEYS: keys,
      LATCHKEY_NEAR_CACHE: '30s',
    });
    try {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const agent = new Agent(a.url);
        const reply = await agent.request('POST', '/auth/register', {
          json: { email: `bearer${i}.${Date.now()}@example.com`, password: GOOD_PASSWORD },
        });
        const bearer = { authorization: `Bearer ${reply.json.accessToken as string}` };
        const onB = () => new Agent(b.url).request('GET', '/api/notes', { headers: bearer });
        // Warm B's near-cache with this family.
        expect((await onB()).status).toBe(200);
        expect((await onB()).status).toBe(200);
        expect((await agent.request('POST', '/auth/logout')).status).toBe(204);
        const loggedOutAt = performance.now();
        await expect
          .poll(async () => (await onB()).status, { timeout: 1000, interval: 1 })
          .toBe(401);
        times.push(performance.now() - loggedOutAt);
      }
      times.sort((x, y) => x - y);
      console.log(
        `bearer token refused on the other server after the logout answer (30 sign-outs): p50 ${times[14]?.toFixed(2)} ms, max ${times[29]?.toFixed(2)} ms`,
      );
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});

/** True once something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('a Redis outage (private redis-server, never the shared one)', () => {
  let dir: string;
  let port: number;
  let redis: ChildProcess | undefined;

  /** A private Redis with AOF fsync on every write, so a SIGKILL loses nothing. */
  async function startRedis(): Promise<void> {
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline) throw new Error(`private redis-server on ${port} did not start`);
      await sleep(50);
    }
  }

  function killRedis(): Promise<void> {
    const child = redis;
    redis = undefined;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-redis-'));
    port = await freePort();
    await startRedis();
  });
  afterAll(async () => {
    await killRedis();
    await rm(dir, { recursive: true, force: true });
  });

  it('killed: 503 store_unavailable quickly, never a 200; back: the same session works without a restart', async () => {
    const env = { LATCHKEY_REDIS_URL: `redis://127.0.0.1:${port}`, DATABASE_URL };
    await using plain = await startTestServer(env);
    await using cached = await startTestServer({ ...env, LATCHKEY_NEAR_CACHE: '30s' });
    const { agent } = await registered(plain.url);
    const onCached = new Agent(cached.url);
    for (const [k, v] of agent.cookies) onCached.cookies.set(k, v);
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
    expect((await onCached.request('GET', '/auth/session')).status).toBe(200);

    await killRedis();
    const answers: { status: number; ms: number }[] = [];
    for (let i = 0; i < 10; i++) {
      for (const client of [agent, onCached]) {
        const started = performance.now();
        const reply = await client.request('GET', '/auth/session');
        answers.push({ status: reply.status, ms: performance.now() - started });
        expect(reply.status).toBe(503);
        expect(reply.json.error.code).toBe('store_unavailable');
      }
    }
    const health = await new Agent(plain.url).request('GET', '/healthz');
    expect(health.status).toBe(503);
    const slowest = Math.max(...answers.map((x) => x.ms));
    console.log(
      `during the Redis outage: ${answers.length} answers, all 503, slowest ${slowest.toFixed(1)} ms`,
    );

    await startRedis();
    await expect
      .poll(async () => (await agent.request('GET', '/auth/session')).status, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(200);
    await expect
      .poll(async () => (await onCached.request('GET', '/auth/session')).status, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(200);
    expect((await new Agent(plain.url).request('GET', '/healthz')).status).toBe(200);
  });
});
