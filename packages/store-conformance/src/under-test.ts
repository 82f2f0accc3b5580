import { expect } from 'vitest';
import type { LatchkeyStore, SessionRecord, UserRecord } from '@latchkey/core';
import { newSession, newUser } from './fixtures.js';

/** What a store's test file hands the suite: a fresh store and how to dispose of it. */
export interface StoreUnderTest {
  store: LatchkeyStore;
  cleanup: () => Promise<void>;
}

/** The store of the test now running: the suites' groups read it inside each test. */
export interface CurrentStore {
  readonly store: LatchkeyStore;
}

/** A new user, created in `store` (which must accept it). */
export async function createdUser(
  store: LatchkeyStore,
  overrides: Partial<UserRecord> = {},
): Promise<UserRecord> {
  const user = newUser(overrides);
  expect(await store.users.createUser(user)).toBe(true);
  return user;
}

/** A new session of `userId`, created in `store`. */
export async function createdSession(
  store: LatchkeyStore,
  userId: string,
  overrides: Partial<SessionRecord> = {},
): Promise<SessionRecord> {
  const session = newSession(userId, overrides);
  await store.sessions.createSession(session);
  return session;
}
