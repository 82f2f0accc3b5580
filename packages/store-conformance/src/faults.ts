import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/core';
import {
  failClosed,
  type LatchkeyStore,
  type SessionRecord,
  type UserRecord,
} from '@latchkey/core/store-kit';
import {
  expectAllRejectedInBound,
  MINUTE,
  newSession,
  newUser,
  runAll,
  unique,
  type Outcome,
} from './fixtures.js';

/** A private backend a fault test may freeze, kill and restart (never a shared one). */
export interface FaultBackend {
  /** What the store connects to: `redis://127.0.0.1:<port>`, a file name. */
  readonly url: string;
  /** Stops answering while keeping its connections open (SIGSTOP). Omit where impossible. */
  freeze?: () => void | Promise<void>;
  /** Undoes `freeze` (SIGCONT). */
  resume?: () => void | Promise<void>;
  /** Dies at once, like a crashed host (SIGKILL, frozen or not); resolves once it is gone. */
  kill: () => Promise<void>;
  /** Starts again at the same address (and data folder) after `kill`; resolves once it listens. */
  restart?: () => Promise<void>;
  /** Final clean-up after the suite: ends whatever still runs, removes temporary files. */
  stop: () => Promise<void>;
}

/** What a store's fault test hands `describeStoreFaults`. */
export interface StoreFaultHarness {
  /** Starts a private backend and resolves once it accepts connections. */
  start: () => Promise<FaultBackend>;
  /**
   * Opens the store under test against it, with short time limits so a call on a frozen
   * backend settles within `boundMs`. `onError` takes the errors a store reports out
   * of band (a dropped connection) instead of crashing the process.
   */
  open: (backend: FaultBackend, onError: (error: Error) => void) => Promise<LatchkeyStore>;
  /** Whether what was written before a kill is there after the restart (PostgreSQL: yes; an in-memory Redis: no). */
  durable: boolean;
  /** The store's `onError` must have received the kill's connection errors. @default false */
  reportsErrors?: boolean;
  /** What bounds a call on a frozen backend, for the printed figures: `command timeout 1000 ms`. */
  limits?: string;
  /** A hang guard, not a performance target: every call must settle within this. @default 3000 */
  boundMs?: number;
  /** How long the store may take to answer again after `resume`. @default 10000 */
  recoverWithinMs?: number;
  /** How long the store may take to answer again after `restart`. @default 20000 */
  restartWithinMs?: number;
  /** Skips the whole suite (the backend's binaries are missing, say). */
  skip?: boolean;
}

/** The records `everyStoreCall` aims at: they exist while the backend is up. */
export interface FaultRecords {
  user: UserRecord;
  session: SessionRecord;
  /** A second session of `user`, for the calls that destroy. */
  spare: SessionRecord;
}

/**
 * Every store method, one call each, against records that exist while the backend is
 * up. None changes `user` or `session`: a call that timed out on a frozen backend may
 * still run once it wakes (a timeout says "unknown", never "not applied"), and the
 * suite then expects both unchanged, as it does after a durable backend's restart.
 * The calls that would change a session (touch, rotate with the right hash, delete,
 * delete the user's others) aim at `spare`; the password is set to the one it has.
 */
export function everyStoreCall(
  store: LatchkeyStore,
  { user, session, spare }: FaultRecords,
): Record<string, () => Promise<unknown>> {
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
    touchSession: () => store.sessions.touchSession(spare.id, now, now + MINUTE),
    rotateSecret: () =>
      store.sessions.rotateSecret(spare.id, spare.secretHash, {
        secretHash: unique('next'),
        previousSecretHash: spare.secretHash,
        rotatedAt: now,
        lastSeenAt: now,
        idleExpiresAt: now + MINUTE,
      }),
    deleteSession: () => store.sessions.deleteSession(spare.id),
    listUserSessions: () => store.sessions.listUserSessions(user.id, now),
    deleteUserSessions: () => store.sessions.deleteUserSessions(user.id, session.id),
    deleteExpiredSessions: () => store.sessions.deleteExpiredSessions(now),
    limiterGet: () => limiter.get(user.email),
    limiterHit: () => limiter.hit(user.email),
    limiterRefund: () => limiter.refund(user.email),
    limiterReset: () => limiter.reset(user.email),
  };
}

/**
 * Every call rejected within `boundMs` and, through the core's guard, as
 * `503 store_unavailable`: refused, never let through. Returns the slowest, in ms.
 */
export function expectFailClosed(outcomes: Outcome[], boundMs: number): number {
  const slowest = expectAllRejectedInBound(outcomes, boundMs);
  const not503 = outcomes.filter(
    (o) => !(o.error instanceof LatchkeyError && o.error.status === 503),
  );
  expect(not503.map((o) => o.name)).toEqual([]);
  return slowest;
}

const answers = (store: LatchkeyStore): Promise<boolean> =>
  store.ping().then(
    () => true,
    () => false,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fail-closed guarantees every store with a backend must keep, as one vitest
 * suite on a private backend the harness starts. The tests run in order and share the
 * backend and ONE store object:
 * - it works while the backend is up;
 * - frozen (if the backend can be): every call rejects within `boundMs`, a 503 through
 *   the guard, and the same store answers again once the backend resumes, with the
 *   user and session unchanged;
 * - killed: a call in flight (when the backend can be frozen first, so it is surely
 *   unanswered) and every call for several rounds after reject within `boundMs`,
 *   none resolving with data;
 * - restarted (if the backend can be): the same store, never recreated, works again,
 *   and keeps or forgets the old records as the harness says it is `durable`.
 * Store-specific cases stay in the store's own test file beside this call.
 */
export function describeStoreFaults(name: string, harness: StoreFaultHarness): void {
  const boundMs = harness.boundMs ?? 3000;
  const limits = harness.limits === undefined ? '' : ` (${harness.limits})`;

  describe.skipIf(harness.skip ?? false)(`store faults: ${name}`, () => {
    let backend: FaultBackend | undefined;
    let store: LatchkeyStore | undefined;
    let records: FaultRecords;
    const errors: Error[] = [];
    const figures: string[] = [];

    /** Both set in beforeAll; a test that runs at all has them. */
    const up = () => {
      if (!backend || !store) throw new Error('the backend or the store did not start');
      return { backend, store };
    };
    const everyCallGuarded = (s: LatchkeyStore) =>
      failClosed(everyStoreCall(s, records), 'fault-test');

    async function createdUser(): Promise<UserRecord> {
      const user = newUser();
      expect(await up().store.users.createUser(user)).toBe(true);
      return user;
    }
    async function createdSession(userId: string): Promise<SessionRecord> {
      const session = newSession(userId);
      await up().store.sessions.createSession(session);
      return session;
    }

    beforeAll(async () => {
      backend = await harness.start();
      store = await harness.open(backend, (error) => errors.push(error));
    }, 60_000);

    afterAll(async () => {
      try {
        await store?.close();
      } finally {
        await backend?.stop();
      }
      if (figures.length > 0) console.info(`store faults, ${name}: ${figures.join('; ')}`);
    }, 60_000);

    it('works while the backend is up', { timeout: 30_000 }, async () => {
      const user = await createdUser();
      const session = await createdSession(user.id);
      records = { user, session, spare: await createdSession(user.id) };
      expect(await up().store.sessions.getSession(session.id)).toEqual(session);
    });

    it(
      'a frozen backend (SIGSTOP): every call rejects within the bound, a 503 through the guard; the same store recovers when it resumes',
      { timeout: 30_000 },
      async ({ skip }) => {
        const { backend, store } = up();
        if (!backend.freeze || !backend.resume) return skip('this backend cannot be frozen');
        await backend.freeze();
        try {
          const slowest = expectFailClosed(await runAll(everyCallGuarded(store)), boundMs);
          figures.push(`frozen → rejection in ≤ ${Math.round(slowest)} ms${limits}`);
        } finally {
          await backend.resume();
        }
        // The same store object answers again once the backend does.
        await expect
          .poll(() => answers(store), { timeout: harness.recoverWithinMs ?? 10_000 })
          .toBe(true);
        // Calls that timed out may have run since the backend woke up; none of them
        // touched these two.
        expect(await store.sessions.getSession(records.session.id)).toEqual(records.session);
        expect(await store.users.getUserById(records.user.id)).toEqual(records.user);
        // The spare may have been rotated or deleted: a new one for the next test.
        records.spare = await createdSession(records.user.id);
      },
    );

    it(
      'a killed backend: the call in flight and every later call reject quickly, none resolves with data',
      { timeout: 30_000 },
      async () => {
        const { backend, store } = up();
        // A call in flight at the moment of the kill: the backend is frozen first, so
        // the call is surely unanswered when the process dies.
        let inFlight: Promise<'resolved' | 'rejected'> | undefined;
        let settledAt = 0;
        if (backend.freeze) {
          await backend.freeze();
          inFlight = store.sessions.getSession(records.session.id).then(
            () => 'resolved' as const,
            () => 'rejected' as const,
          );
          void inFlight.finally(() => (settledAt = performance.now()));
          await sleep(50);
        }
        const killedAt = performance.now();
        await backend.kill();
        let inFlightFigure = '';
        if (inFlight) {
          expect(await inFlight).toBe('rejected');
          expect(settledAt - killedAt).toBeLessThan(boundMs);
          inFlightFigure = `the call in flight rejected ${Math.round(settledAt - killedAt)} ms after the kill; `;
        }

        // Right after the kill, and again while the store keeps trying to reconnect.
        let slowest = 0;
        for (let round = 0; round < 4; round++) {
          slowest = Math.max(
            slowest,
            expectFailClosed(await runAll(everyCallGuarded(store)), boundMs),
          );
          await sleep(300);
        }
        figures.push(`killed → ${inFlightFigure}later calls reject in ≤ ${slowest.toFixed(1)} ms`);
        // Connection errors reached the listener instead of crashing the process.
        if (harness.reportsErrors) expect(errors.length).toBeGreaterThan(0);
      },
    );

    it(
      harness.durable
        ? 'a restarted backend: the same store object works again, with what was written before the kill'
        : 'a restarted backend: the same store object works again; what the backend lost is unknown, never let through',
      { timeout: 30_000 },
      async ({ skip }) => {
        const { backend, store } = up();
        if (!backend.restart) return skip('this backend cannot be restarted');
        const restartedAt = performance.now();
        await backend.restart();
        await expect
          .poll(() => answers(store), { timeout: harness.restartWithinMs ?? 20_000 })
          .toBe(true);
        figures.push(
          `restart → store usable ${Math.round(performance.now() - restartedAt)} ms later`,
        );

        const { user, session } = records;
        if (harness.durable) {
          // Committed before the kill, so still there.
          expect(await store.sessions.getSession(session.id)).toEqual(session);
          expect(await store.users.getUserByEmail(user.email)).toEqual(user);
          const more = await createdSession(user.id);
          expect(await store.sessions.getSession(more.id)).toEqual(more);
        } else {
          // A backend that came back empty: the old session is simply unknown.
          expect(await store.sessions.getSession(session.id)).toBeNull();
          expect(await store.users.getUserByEmail(user.email)).toBeNull();
        }
        const again = await createdUser();
        const fresh = await createdSession(again.id);
        expect(await store.sessions.getSession(fresh.id)).toEqual(fresh);
        expect(await store.users.getUserByEmail(again.email)).toEqual(again);
        const limiter = store.rateLimits.createLimiter({ name: 'fault', windowMs: MINUTE });
        expect((await limiter.hit(again.email)).consumed).toBe(1);
      },
    );
  });
}
