import { expect } from 'vitest';
import type { SessionRecord, UserRecord } from '@latchkey/core';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/**
 * Every id, email, key and limiter name is unique per test: a Redis or PostgreSQL
 * backend may be shared by test files running in parallel and keep earlier runs' rows.
 */
export const unique = (prefix: string): string => `${prefix}-${crypto.randomUUID()}`;

export function newUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: unique('user'),
    email: `${unique('person')}@example.test`,
    name: 'Ada Lovelace',
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${unique('salt')}`,
    createdAt: Date.now(),
    emailVerifiedAt: null,
    mfa: [],
    ...overrides,
  };
}

/**
 * Times are real ones (around `Date.now()`), so a backend that also sets native
 * expiry (a Redis TTL) keeps a live session alive for the length of the test.
 */
export function newSession(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: unique('session'),
    userId,
    secretHash: unique('hash'),
    previousSecretHash: null,
    rotatedAt: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 30 * MINUTE,
    expiresAt: now + 12 * HOUR,
    userAgent: 'Mozilla/5.0 (conformance)',
    ip: '203.0.113.7',
    ...overrides,
  };
}

/** One store call in a fault test: whether (and with what) it rejected, how long it took to settle. */
export interface Outcome {
  name: string;
  rejected: boolean;
  /** What it rejected with; undefined when it resolved. */
  error?: unknown;
  ms: number;
}

/** Runs every call at once and reports, per call, whether it rejected and how long it took. */
export async function runAll(calls: Record<string, () => Promise<unknown>>): Promise<Outcome[]> {
  return Promise.all(
    Object.entries(calls).map(async ([name, call]) => {
      const started = performance.now();
      const settled = await call().then(
        () => ({ rejected: false }),
        (error: unknown) => ({ rejected: true, error }),
      );
      return { name, ...settled, ms: performance.now() - started };
    }),
  );
}

/**
 * Every call rejected (named in the failure message if one resolved or hung) and none
 * took longer than `boundMs`, a hang guard. Returns the slowest, in milliseconds.
 */
export function expectAllRejectedInBound(outcomes: Outcome[], boundMs: number): number {
  expect(outcomes.filter((o) => !o.rejected).map((o) => o.name)).toEqual([]);
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  expect(slowest).toBeLessThan(boundMs);
  return slowest;
}
