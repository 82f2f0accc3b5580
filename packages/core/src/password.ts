import { hash, verify } from '@node-rs/argon2';
import { fail, type LatchkeyError } from './errors.js';

/**
 * argon2id at the OWASP Password Storage Cheat Sheet's first recommended setting
 * (m = 19 MiB, t = 2, p = 1). `@node-rs/argon2` runs on the libuv pool, so hashing
 * never blocks the event loop.
 */
const ARGON2ID = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot read)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** False for a wrong password and for a malformed stored hash; never throws on input. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same hashing time as a real verification, for logins whose email has
 * no account, so response timing does not reveal which emails are registered.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('latchkey-timing-equaliser-not-a-real-password');
  await verifyPassword(await dummyHash, password);
  return false;
}

/** Who is waiting for a hash: a sign-in from a browser the account knows goes first, sign-ups last. */
export type HashPriority = 'known_device' | 'login' | 'register';
const RANK: Record<HashPriority, number> = { known_device: 0, login: 1, register: 2 };

export interface PasswordHasherOptions {
  /** Computations at once. */
  concurrency: number;
  /** Computations allowed to wait; one more is refused with `503 overloaded`. */
  maxWaiting: number;
  /** Told each time work is refused (for the security log). */
  onOverload?: (waiting: number) => void;
}

/** argon2id work for one Latchkey instance, at most `concurrency` computations at a time. */
export interface PasswordHasher {
  hash(password: string, priority?: HashPriority): Promise<string>;
  verify(passwordHash: string, password: string, priority?: HashPriority): Promise<boolean>;
  verifyAgainstDummy(password: string, priority?: HashPriority): Promise<false>;
  /** Computations waiting for a slot right now. */
  readonly waiting: number;
  /** Counters since start, for metrics (read-only view of the queue). */
  readonly stats: HashingStats;
}

/** The hashing queue as metrics see it. */
export interface HashingStats {
  /** Computations waiting for a slot right now (the queue depth). */
  readonly waiting: number;
  /** Computations running right now. */
  readonly running: number;
  /** Computations so far that had to wait for a slot. */
  readonly queued: number;
  /** Total time those waited, in milliseconds. */
  readonly waitedMs: number;
  /** Computations refused (`503 overloaded`), pushed-out waiters included. */
  readonly refused: number;
}

interface Waiter {
  rank: number;
  start: () => void;
  refuse: (error: LatchkeyError) => void;
}

/**
 * Puts the argon2id calls in line so that at most `concurrency` run at once. The
 * libuv pool would otherwise run four (its default size) on however many cores the
 * machine has, and on a small machine a burst of logins then starves the event loop
 * that serves every other request. Waiting costs no CPU and blocks nothing.
 *
 * The line is bounded, so a flood (of sign-ups, typically) gets `503 overloaded` with
 * `Retry-After` instead of an ever longer wait, and it is ordered: when a slot frees,
 * the best-ranked waiter takes it; when the line is full, a better-ranked newcomer
 * pushes out the newest worst-ranked waiter. So sign-ups cannot starve sign-ins.
 */
export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const { concurrency, maxWaiting } = options;
  let running = 0;
  const line: Waiter[] = [];
  // Recent duration of one computation, for an honest Retry-After.
  let averageMs = 15;

  let queued = 0;
  let waitedMs = 0;
  let refused = 0;

  const overloaded = () => {
    refused++;
    options.onOverload?.(line.length);
    const seconds = Math.ceil(((line.length + 1) * averageMs) / concurrency / 1000);
    return fail('overloaded', { headers: { 'Retry-After': String(Math.max(1, seconds)) } });
  };

  /** Waits for a slot; refuses when the line is full of waiters ranked as well or better. */
  const admit = (rank: number) =>
    new Promise<void>((start, refuse) => {
      if (line.length >= maxWaiting) {
        let worst = -1;
        for (let i = line.length - 1; i >= 0; i--) {
          if (
            (line[i] as Waiter).rank > rank &&
            (worst === -1 || (line[i] as Waiter).rank > (line[worst] as Waiter).rank)
          )
            worst = i;
        }
        if (worst === -1) return refuse(overloaded());
        const [pushedOut] = line.splice(worst, 1);
        pushedOut?.refuse(overloaded());
      }
      // Stable by rank: after every waiter of the same or a better rank.
      let at = line.length;
      while (at > 0 && (line[at - 1] as Waiter).rank > rank) at--;
      line.splice(at, 0, { rank, start, refuse });
    });

  const limited = async <T>(priority: HashPriority, work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) {
      queued++;
      const since = Date.now();
      try {
        await admit(RANK[priority]);
      } finally {
        waitedMs += Date.now() - since;
      }
    } else running++;
    const started = Date.now();
    try {
      return await work();
    } finally {
      averageMs = averageMs * 0.8 + (Date.now() - started) * 0.2;
      // Hand the slot straight to the next in line, or free it.
      const next = line.shift();
      if (next) next.start();
      else running--;
    }
  };
  return {
    hash: (password, priority = 'register') => limited(priority, () => hashPassword(password)),
    verify: (passwordHash, password, priority = 'login') =>
      limited(priority, () => verifyPassword(passwordHash, password)),
    verifyAgainstDummy: (password, priority = 'login') =>
      limited(priority, () => verifyAgainstDummy(password)),
    get waiting() {
      return line.length;
    },
    stats: {
      get waiting() {
        return line.length;
      },
      get running() {
        return running;
      },
      get queued() {
        return queued;
      },
      get waitedMs() {
        return waitedMs;
      },
      get refused() {
        return refused;
      },
    },
  };
}
