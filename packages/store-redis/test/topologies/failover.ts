import { LatchkeyError } from '@latchkey/core';
import { failClosed, type SessionRecord } from '@latchkey/core/store-kit';
import { MINUTE, newSession, type Outcome, runAll } from '@latchkey/store-conformance';
import { expect } from 'vitest';
import type { RedisNode, RedisStore } from '../../src/index.js';
import { info } from './setup.js';

/*
 * Traffic through the core's fail-closed guard while a primary dies, and what it saw:
 * which calls were refused (always `503 store_unavailable`), for how long, and which
 * acknowledged writes the failover lost.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One round of calls, all at once, with the time it started. */
export interface Round {
  at: number;
  outcomes: Outcome[];
}

export interface Traffic {
  readonly rounds: Round[];
  /** Sessions whose createSession resolved (acknowledged by the primary), with when. */
  readonly acknowledged: { session: SessionRecord; at: number }[];
  stop(): Promise<void>;
}

/**
 * Runs `reads` plus one createSession of `writerId` per round, through the guard
 * (`failClosed`, what the HTTP handlers use), every few milliseconds until stopped.
 */
export function startTraffic(
  store: RedisStore,
  writerId: string,
  reads: Record<string, () => Promise<unknown>>,
): Traffic {
  const rounds: Round[] = [];
  const acknowledged: Traffic['acknowledged'] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const session = newSession(writerId);
      const at = performance.now();
      const calls = failClosed(
        {
          ...reads,
          createSession: async () => {
            await store.sessions.createSession(session);
            acknowledged.push({ session, at: performance.now() });
          },
        },
        'failover-test',
      );
      rounds.push({ at, outcomes: await runAll(calls) });
      await sleep(10);
    }
  })();
  return {
    rounds,
    acknowledged,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Every rejection seen was the guard's 503 store_unavailable. */
export function expectOnly503(rounds: Round[]): void {
  const other = rounds
    .flatMap((r) => r.outcomes)
    .filter((o) => o.rejected && !(o.error instanceof LatchkeyError && o.error.status === 503));
  expect(other.map((o) => `${o.name}: ${String(o.error)}`)).toEqual([]);
}

/** The rounds from the first one with a refusal after `killedAt` to the first fully answered one after it. */
export function outage(rounds: Round[], killedAt: number) {
  const after = rounds.filter((r) => r.at >= killedAt);
  const firstRefused = after.findIndex((r) => r.outcomes.some((o) => o.rejected));
  const refusedFrom = after[firstRefused];
  const recovered = after.slice(firstRefused).find((r) => r.outcomes.every((o) => !o.rejected));
  const window =
    refusedFrom && recovered ? after.slice(firstRefused, after.indexOf(recovered)) : [];
  const refusedCalls: Record<string, number> = {};
  const answeredCalls: Record<string, number> = {};
  for (const outcome of window.flatMap((r) => r.outcomes)) {
    const tally = outcome.rejected ? refusedCalls : answeredCalls;
    tally[outcome.name] = (tally[outcome.name] ?? 0) + 1;
  }
  return {
    /** When the first refusal's round started, ms after the kill. */
    firstRefusalMs: refusedFrom ? refusedFrom.at - killedAt : null,
    /** When the first fully answered round after it started, ms after the kill. */
    recoveredMs: recovered ? recovered.at - killedAt : null,
    refusedCalls,
    answeredCalls,
    slowestMs: Math.max(0, ...window.flatMap((r) => r.outcomes.map((o) => o.ms))),
  };
}

/** Waits until every replica of `primary` has all it was sent (replication offsets equal). */
export async function replicated(primary: RedisNode): Promise<void> {
  await expect
    .poll(
      async () => {
        const replication = await info(primary, 'replication');
        const offset = replication.master_repl_offset;
        const replicas = Object.entries(replication).filter(([k]) => /^slave\d+$/.test(k));
        return (
          replicas.length > 0 &&
          replicas.every(([, v]) => v.includes(`offset=${offset},`) && v.includes('state=online'))
        );
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe(true);
}

/** The acknowledged sessions the store no longer has, and the ones it still has. */
export async function lostWrites(store: RedisStore, traffic: Traffic) {
  const found = await Promise.all(
    traffic.acknowledged.map(async ({ session }) => store.sessions.getSession(session.id)),
  );
  const lost = traffic.acknowledged.filter((_, i) => found[i] === null);
  // What is there is exactly what was written.
  found.forEach((session, i) => {
    if (session !== null) expect(session).toEqual(traffic.acknowledged[i]?.session);
  });
  return { acknowledged: traffic.acknowledged.length, lost };
}

export const LIMITER = { name: 'failover', windowMs: MINUTE };
