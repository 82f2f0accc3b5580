import type { LatchkeyStore } from '@latchkey/core/store-kit';

/** A private backend a fault test may freeze, kill and restart (never a shared one). */
export interface FaultBackend {
  /** What the store connects to: `redis://127.0.0.1:<port>`, a file name. */
  readonly url: string;
  /** Stops answering while keeping its connections open (SIGSTOP). Given when the harness says `canFreeze`. */
  freeze?: () => void | Promise<void>;
  /** Undoes `freeze` (SIGCONT). Given when the harness says `canFreeze`. */
  resume?: () => void | Promise<void>;
  /** Dies at once, like a crashed host (SIGKILL, frozen or not); resolves once it is gone. */
  kill: () => Promise<void>;
  /** Starts again at the same address (and data folder) after `kill`; resolves once it listens. Given when the harness says `canRestart`. */
  restart?: () => Promise<void>;
  /** Final clean-up after the suite: ends whatever still runs, removes temporary files. */
  stop: () => Promise<void>;
}

/**
 * What a store's fault test hands `describeStoreFaults`. Whether the backend can be
 * frozen or restarted is said here, up front, because the suite registers those cases
 * only where they can run (a case that cannot run is left out, never reported as
 * skipped); the backend `start` gives must then have the matching methods.
 */
export interface StoreFaultHarness {
  /** Starts a private backend and resolves once it accepts connections. */
  start: () => Promise<FaultBackend>;
  /**
   * Opens the store under test against it, with short time limits so a call on a frozen
   * backend settles within `boundMs`. `onError` takes the errors a store reports out
   * of band (a dropped connection) instead of crashing the process.
   */
  open: (backend: FaultBackend, onError: (error: Error) => void) => Promise<LatchkeyStore>;
  /** The backend has `freeze` and `resume`: the frozen case runs, and the killed case kills a call in flight. */
  canFreeze: boolean;
  /** The backend has `restart`: the restarted case runs. */
  canRestart: boolean;
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
}

/** Throws unless `backend` has exactly the methods the harness's `canFreeze` and `canRestart` promise. */
export function checkCapabilities(harness: StoreFaultHarness, backend: FaultBackend): void {
  const freezes = backend.freeze !== undefined && backend.resume !== undefined;
  const restarts = backend.restart !== undefined;
  if (freezes !== harness.canFreeze || restarts !== harness.canRestart) {
    throw new Error(
      `the harness says canFreeze: ${harness.canFreeze}, canRestart: ${harness.canRestart}, ` +
        `but start() gave a backend that ${freezes ? 'can' : 'cannot'} be frozen and ` +
        `${restarts ? 'can' : 'cannot'} be restarted`,
    );
  }
}
