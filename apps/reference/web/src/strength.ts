import type { StrengthVerdict } from '@latchkey/core/strength';
import { useEffect, useState } from 'react';

/**
 * Password strength as the user types, judged by the same rule as the server
 * (`@latchkey/core/strength`: 15..128 characters, zxcvbn score ≥ 3, the email, the name and
 * "Latchkey" counting as easy words). The server stays the authority (`422 weak_password`);
 * this is feedback only.
 *
 * zxcvbn and its dictionaries are large, and measuring a password takes up to a few hundred
 * milliseconds (more the first time, while the dictionaries are indexed). So none of it is in
 * the page's bundle: on the first keystroke a worker is started that loads them, and every
 * measurement runs there, off the main thread, so typing never stalls.
 */

export type { StrengthVerdict };

/** What the page asks the worker. */
export interface StrengthRequest {
  id: number;
  password: string;
  email: string;
  name: string;
}

/** What the worker answers. */
export interface StrengthAnswer {
  id: number;
  verdict: StrengthVerdict;
}

/** The one thing the page needs of a worker (a fake one in tests). */
export interface StrengthWorker {
  postMessage(message: StrengthRequest): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<StrengthAnswer>) => void): void;
  addEventListener(type: 'error', listener: (event: Event) => void): void;
  terminate(): void;
}

export interface StrengthChecker {
  /**
   * The verdict on `input`, or `undefined` if a newer `check` came first (only the latest
   * input is worth an answer). Rejects if the worker cannot run.
   */
  check(input: Omit<StrengthRequest, 'id'>): Promise<StrengthVerdict | undefined>;
  /** Starts the worker (and its download) without asking anything yet. */
  warm(): void;
  close(): void;
}

/** The worker, a file of its own under the page's origin (CSP `worker-src 'self'`). */
export const spawnStrengthWorker = (): StrengthWorker =>
  new Worker(new URL('./strength.worker.ts', import.meta.url), {
    type: 'module',
    name: 'password-strength',
  });

/**
 * A checker over one lazily started worker. At most one request is in flight: while the
 * worker measures, newer input replaces whatever was waiting, so a fast typist never builds
 * up a queue of stale measurements.
 */
export function createStrengthChecker(spawn = spawnStrengthWorker): StrengthChecker {
  interface Job {
    id: number;
    input: Omit<StrengthRequest, 'id'>;
    resolve: (verdict: StrengthVerdict | undefined) => void;
    reject: (error: unknown) => void;
  }
  let worker: StrengthWorker | undefined;
  let broken: Error | undefined;
  let flying: Job | undefined;
  let waiting: Job | undefined;
  let next = 0;

  const fail = (error: unknown) => {
    broken =
      error instanceof Error
        ? error
        : new Error('The password strength worker could not start.', { cause: error });
    for (const job of [flying, waiting]) job?.reject(error);
    flying = waiting = undefined;
    worker?.terminate();
  };

  const start = () => {
    if (worker || broken) return;
    try {
      worker = spawn();
    } catch (error) {
      fail(error);
      return;
    }
    worker.addEventListener('message', (event) => {
      const job = flying;
      if (!job || event.data.id !== job.id) return;
      flying = undefined;
      // Superseded while it was measured: the newer input is the one to answer.
      job.resolve(waiting ? undefined : event.data.verdict);
      send();
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      fail(new Error('The password strength worker failed.'));
    });
  };

  const send = () => {
    if (flying || !waiting || !worker) return;
    flying = waiting;
    waiting = undefined;
    worker.postMessage({ id: flying.id, ...flying.input });
  };

  return {
    check(input) {
      start();
      if (broken) return Promise.reject(broken);
      return new Promise((resolve, reject) => {
        waiting?.resolve(undefined);
        next += 1;
        waiting = { id: next, input, resolve, reject };
        send();
      });
    },
    warm: start,
    close() {
      fail(new Error('closed'));
      broken = undefined;
      worker = undefined;
    },
  };
}

let shared: StrengthChecker | undefined;
const checker = () => (shared ??= createStrengthChecker());

/** How long typing must pause before a password is measured (and the verdict announced). */
const PAUSE_MS = 200;

/**
 * The verdict on `password` for an account with this `email` and `name`, as the user types:
 * `null` while the field is empty, before the first answer, or if the check cannot run.
 * The worker starts on the first keystroke; measuring waits for a pause in the typing.
 */
export function usePasswordStrength(
  password: string,
  email: string,
  name: string | null | undefined,
  pauseMs = PAUSE_MS,
): StrengthVerdict | null {
  const [verdict, setVerdict] = useState<StrengthVerdict | null>(null);
  const typed = password !== '';
  useEffect(() => {
    if (typed) checker().warm();
  }, [typed]);
  useEffect(() => {
    if (!password) return;
    let live = true;
    const timer = setTimeout(() => {
      checker()
        .check({ password, email, name: name ?? '' })
        .then(
          (answer) => {
            if (live && answer) setVerdict(answer);
          },
          () => {
            if (live) setVerdict(null);
          },
        );
    }, pauseMs);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, email, name, pauseMs]);
  return typed ? verdict : null;
}
