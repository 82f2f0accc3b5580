import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '@latchkey/core';
import { createRedisStore, type RedisStore } from '../src/index.js';
import {
  expectAllRejectedInBound,
  newSession as sampleSession,
  newUser as sampleUser,
  runAll,
} from '@latchkey/store-conformance';
// The fixtures' nullable fields as these tests had them; a fixed 60-minute lifetime.
const newUser = () => sampleUser({ name: 'Fault' });
const newSession = (userId: string) =>
  sampleSession(userId, { userAgent: null, ip: null, expiresAt: Date.now() + 60 * MINUTE });

/*
 * Fault tests on a PRIVATE redis-server started on a free port and killed here; the
 * shared Redis is never touched. The tests run in order and share that server.
 */

const MINUTE = 60_000;
/** A hang guard, not a performance target: a call must settle well within this. */
const BOUND_MS = 3000;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`redis-server did not start:\n${output}`));
    }, 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Every store call, against records that exist while Redis is up. */
function everyCall(store: RedisStore, user: UserRecord, session: SessionRecord) {
  const limiter = store.rateLimits.createLimiter({ name: 'fault', windowMs: MINUTE });
  const now = Date.now();
  return {
    ping: () => store.ping(),
    createUser: () => store.users.createUser(newUser()),
    getUserByEmail: () => store.users.getUserByEmail(user.email),
    getUserById: () => store.users.getUserById(user.id),
    setPasswordHash: () => store.users.setPasswordHash(user.id, '$argon2id$other'),
    createSession: () => store.sessions.createSession(newSession(user.id)),
    getSession: () => store.sessions.getSession(session.id),
    touchSession: () => store.sessions.touchSession(session.id, now, now + MINUTE),
    rotateSecret: () =>
      store.sessions.rotateSecret(session.id, session.secretHash, {
        secretHash: 'next',
        previousSecretHash: session.secretHash,
        rotatedAt: now,
        lastSeenAt: now,
        idleExpiresAt: now + MINUTE,
      }),
    deleteSession: () => store.sessions.deleteSession(session.id),
    listUserSessions: () => store.sessions.listUserSessions(user.id, now),
    deleteUserSessions: () => store.sessions.deleteUserSessions(user.id),
    deleteExpiredSessions: () => store.sessions.deleteExpiredSessions(now),
    limiterGet: () => limiter.get(user.email),
    limiterHit: () => limiter.hit(user.email),
    limiterReset: () => limiter.reset(user.email),
  };
}

describe('redis store faults (private redis-server)', () => {
  let port: number;
  let server: ChildProcess | undefined;
  let store: RedisStore;
  let user: UserRecord;
  let session: SessionRecord;
  const connectionErrors: Error[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    server = await startRedis(port);
    store = await createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: 'fault:',
      onError: (error) => connectionErrors.push(error),
    });
  });

  afterAll(async () => {
    await store.close();
    await stop(server);
    if (figures.length > 0) console.info(`redis store faults: ${figures.join('; ')}`);
  });

  it('works while the server is up', async () => {
    user = newUser();
    session = newSession(user.id);
    expect(await store.users.createUser(user)).toBe(true);
    await store.sessions.createSession(session);
    expect(await store.sessions.getSession(session.id)).toEqual(session);
  });

  it('a frozen server (SIGSTOP): every call rejects after the command timeout; it recovers on SIGCONT', async () => {
    server?.kill('SIGSTOP');
    try {
      const outcomes = await runAll(everyCall(store, user, session));
      const slowest = expectAllRejectedInBound(outcomes, BOUND_MS);
      figures.push(`frozen → rejection in ≤ ${Math.round(slowest)} ms (command timeout 1000 ms)`);
    } finally {
      server?.kill('SIGCONT');
    }
    // The same connection answers again once the server does.
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 5000 },
      )
      .toBe(true);
    // A call that timed out may still have run once the server woke up (here the
    // deletes did): a timeout says "unknown", never "not applied".
    user = newUser();
    session = newSession(user.id);
    expect(await store.users.createUser(user)).toBe(true);
    await store.sessions.createSession(session);
    expect(await store.sessions.getSession(session.id)).toEqual(session);
  });

  it('a killed server (SIGKILL): every call rejects quickly and none resolves with data', async () => {
    // A call in flight at the moment of the kill: the server is frozen first, so the
    // call is surely unanswered when the process dies.
    server?.kill('SIGSTOP');
    let settledAt = 0;
    const inFlight = store.sessions.getSession(session.id).then(
      () => 'resolved',
      () => 'rejected',
    );
    void inFlight.finally(() => (settledAt = performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = performance.now();
    await stop(server);
    server = undefined;
    expect(await inFlight).toBe('rejected');
    expect(settledAt - killedAt).toBeLessThan(BOUND_MS);

    // Right after the kill, and again while the client keeps trying to reconnect.
    let slowest = 0;
    for (let round = 0; round < 4; round++) {
      const outcomes = await runAll(everyCall(store, user, session));
      slowest = Math.max(slowest, expectAllRejectedInBound(outcomes, BOUND_MS));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    figures.push(
      `killed → the call in flight rejected ${Math.round(settledAt - killedAt)} ms after the kill; later calls reject in ≤ ${slowest.toFixed(1)} ms`,
    );
    // Connection errors reached the listener instead of crashing the process.
    expect(connectionErrors.length).toBeGreaterThan(0);
  });

  it('a restarted server on the same port: the same store object works again', async () => {
    const restartedAt = performance.now();
    server = await startRedis(port);
    await expect
      .poll(
        () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    figures.push(`restart → store usable ${Math.round(performance.now() - restartedAt)} ms later`);

    // A fresh Redis has no data; the old session is simply unknown (never let through).
    expect(await store.sessions.getSession(session.id)).toBeNull();
    const again = newUser();
    const fresh = newSession(again.id);
    expect(await store.users.createUser(again)).toBe(true);
    await store.sessions.createSession(fresh);
    expect(await store.sessions.getSession(fresh.id)).toEqual(fresh);
    expect(await store.users.getUserByEmail(again.email)).toEqual(again);
    const limiter = store.rateLimits.createLimiter({ name: 'fault', windowMs: MINUTE });
    expect((await limiter.hit(again.email)).consumed).toBe(1);
  });
});
