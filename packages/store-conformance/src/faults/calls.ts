import { expect } from 'vitest';
import { LatchkeyError } from '@latchkey/core';
import type { LatchkeyStore, SessionRecord, UserRecord } from '@latchkey/core/store-kit';
import {
  expectAllRejectedInBound,
  MINUTE,
  newSession,
  newUser,
  unique,
  type Outcome,
} from '../fixtures.js';

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
 * delete the user's others) aim at `spare`; the password is set to the one it has;
 * the user deleted is one that does not exist.
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
    // An id no record has: deletes nothing whether or not it runs after a wake-up.
    deleteUser: () => store.users.deleteUser(unique('user')),
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
