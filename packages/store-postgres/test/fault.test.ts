import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '@latchkey/core';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
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
 * Fault tests on a PRIVATE PostgreSQL (initdb in a temp folder, a free port), frozen,
 * killed and restarted here; the shared server is never touched. PostgreSQL refuses
 * to run as root, so the server runs as the `postgres` user (needs root to switch);
 * without root or the binaries the suite is skipped. The tests run in order.
 */

const BIN = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;
const available = isRoot && existsSync(join(BIN, 'postgres')) && existsSync(join(BIN, 'initdb'));
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

const asPostgres = (command: string, args: string[]) => ['-u', 'postgres', '--', command, ...args];

/** Starts the server (as the postgres user) and waits until it accepts connections. */
async function startPostgres(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    'runuser',
    asPostgres(join(BIN, 'postgres'), [
      '-D',
      join(dir, 'data'),
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`postgres did not start:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`postgres exited with ${code}:\n${output}`));
    });
  });
  return child;
}

/**
 * The private server's processes: the postmaster (from its pid file) and its children.
 * PostgreSQL puts every backend in a process group of its own, so a group signal would
 * miss them; they are addressed one by one, by id.
 */
function serverPids(dir: string): number[] {
  const postmaster = Number(
    readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(postmaster)])
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none.
  }
  return [postmaster, ...children];
}

/** Running, stopped or sleeping; a zombie (killed, not yet reaped by init) counts as gone. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Freezes every server process, postmaster first so it starts no new backend. */
function freeze(dir: string): number[] {
  const [postmaster] = serverPids(dir);
  if (postmaster !== undefined) signalAll([postmaster], 'SIGSTOP');
  const pids = serverPids(dir);
  signalAll(pids, 'SIGSTOP');
  return pids;
}

/** SIGKILL of every server process at once, like a crashed host, then waits for them to go. */
async function crash(dir: string, child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const pids = serverPids(dir);
  signalAll(pids, 'SIGKILL');
  // runuser stops itself when its child is stopped; woken, it sees the child gone and exits.
  if (child.pid !== undefined) signalAll([child.pid], 'SIGCONT');
  await exited;
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Store calls that read or write without destroying the records the next test needs. */
function everyCall(store: PostgresStore, user: UserRecord, session: SessionRecord) {
  const limiter = store.rateLimits.createLimiter({ name: 'fault', windowMs: MINUTE });
  const now = Date.now();
  return {
    ping: () => store.ping(),
    createUser: () => store.users.createUser(newUser()),
    getUserByEmail: () => store.users.getUserByEmail(user.email),
    getUserById: () => store.users.getUserById(user.id),
    setPasswordHash: () => store.users.setPasswordHash(user.id, user.passwordHash),
    createSession: () => store.sessions.createSession(newSession(user.id)),
    getSession: () => store.sessions.getSession(session.id),
    touchSession: () => store.sessions.touchSession(session.id, now, session.idleExpiresAt),
    rotateSecret: () =>
      store.sessions.rotateSecret(session.id, 'not-the-hash', {
        secretHash: 'next',
        previousSecretHash: null,
        rotatedAt: now,
        lastSeenAt: now,
        idleExpiresAt: now + MINUTE,
      }),
    deleteSession: () => store.sessions.deleteSession('session-unknown'),
    listUserSessions: () => store.sessions.listUserSessions(user.id, now),
    deleteUserSessions: () => store.sessions.deleteUserSessions('user-unknown'),
    deleteExpiredSessions: () => store.sessions.deleteExpiredSessions(now - 24 * 60 * MINUTE),
    limiterGet: () => limiter.get(user.email),
    limiterHit: () => limiter.hit(user.email),
    limiterReset: () => limiter.reset('nobody'),
  };
}

const pingable = (store: PostgresStore) =>
  store.ping().then(
    () => true,
    () => false,
  );

describe.skipIf(!available)('postgres store faults (private PostgreSQL)', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  let store: PostgresStore;
  let user: UserRecord;
  let session: SessionRecord;
  const idleErrors: Error[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    await chown(dir, uid, gid);
    execFileSync(
      'runuser',
      asPostgres(join(BIN, 'initdb'), [
        '-D',
        join(dir, 'data'),
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]),
      { stdio: 'ignore' },
    );
    port = await freePort();
    server = await startPostgres(dir, port);
    store = await createPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      statementTimeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: (error) => idleErrors.push(error),
    });
  });

  afterAll(async () => {
    await store?.close();
    if (dir) await crash(dir, server);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (figures.length > 0) console.info(`postgres store faults: ${figures.join('; ')}`);
  });

  it('works while the server is up', async () => {
    user = newUser();
    session = newSession(user.id);
    expect(await store.users.createUser(user)).toBe(true);
    await store.sessions.createSession(session);
    expect(await store.sessions.getSession(session.id)).toEqual(session);
  });

  it('a frozen server (SIGSTOP): every call rejects within the time limits; it recovers on SIGCONT', async () => {
    const frozen = freeze(dir);
    try {
      const slowest = expectAllRejectedInBound(
        await runAll(everyCall(store, user, session)),
        BOUND_MS,
      );
      figures.push(`frozen → rejection in ≤ ${Math.round(slowest)} ms (statement 1000 + 1000 ms)`);
    } finally {
      signalAll(server?.pid === undefined ? frozen : [...frozen, server.pid], 'SIGCONT');
    }
    await expect.poll(() => pingable(store), { timeout: 10_000 }).toBe(true);
    expect(await store.sessions.getSession(session.id)).toEqual(session);
  });

  it('a killed server (SIGKILL of every server process): every call rejects quickly', async () => {
    // In flight when the server dies: frozen first, so it is surely unanswered.
    freeze(dir);
    let settledAt = 0;
    const inFlight = store.sessions.getSession(session.id).then(
      () => 'resolved',
      () => 'rejected',
    );
    void inFlight.finally(() => (settledAt = performance.now()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = performance.now();
    await crash(dir, server);
    server = undefined;
    expect(await inFlight).toBe('rejected');
    expect(settledAt - killedAt).toBeLessThan(BOUND_MS);

    let slowest = 0;
    for (let round = 0; round < 3; round++) {
      slowest = Math.max(
        slowest,
        expectAllRejectedInBound(await runAll(everyCall(store, user, session)), BOUND_MS),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    figures.push(
      `killed → the call in flight rejected ${Math.round(settledAt - killedAt)} ms after the kill; later calls reject in ≤ ${slowest.toFixed(1)} ms`,
    );
  });

  it('a restarted server: the same store object works again, with the same session', async () => {
    const restartedAt = performance.now();
    server = await startPostgres(dir, port);
    await expect.poll(() => pingable(store), { timeout: 20_000 }).toBe(true);
    figures.push(
      `restart (crash recovery) → store usable ${Math.round(performance.now() - restartedAt)} ms later`,
    );

    // Committed before the crash, so still there.
    expect(await store.sessions.getSession(session.id)).toEqual(session);
    expect(await store.users.getUserByEmail(user.email)).toEqual(user);
    const fresh = newSession(user.id);
    await store.sessions.createSession(fresh);
    expect(await store.sessions.getSession(fresh.id)).toEqual(fresh);
  });
});
