import {
  ConfigError,
  createLatchkey,
  LatchkeyError,
  type Latchkey,
  type SecurityLogger,
} from '@latchkey/core';
import { latchkeyOptions, openLatchkeyStores, readEnv, type EnvSettings } from './config/index.js';
import { CliError, describeError, EXIT } from './errors.js';
import type { Env, Io } from './io.js';

/** The server's settings from `env`, or the one line an invalid one gets (exit 1). */
export function settingsFrom(env: Env): EnvSettings {
  try {
    return readEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliError(`invalid configuration: ${error.message}`, EXIT.failed, { cause: error });
    }
    throw error;
  }
}

/** Why a store could not be opened, in a line an operator can act on. */
function cannotOpen(error: unknown): CliError {
  if (error instanceof ConfigError) {
    return new CliError(`invalid configuration: ${error.message}`, EXIT.failed, { cause: error });
  }
  const busy = /SQLITE_BUSY|SQLITE_LOCKED/.test(
    String((error as { cause?: { code?: unknown } }).cause?.code),
  );
  if (busy) {
    return new CliError(
      `the SQLite database is held by a running server (SQLite lets one process open it): stop the server and run this again, or run the servers on PostgreSQL / Redis (DATABASE_URL, LATCHKEY_REDIS_URL)`,
      EXIT.unavailable,
      { cause: error },
    );
  }
  return new CliError(`cannot reach the store: ${describeError(error)}`, EXIT.unavailable, {
    cause: error,
  });
}

/**
 * Security events as JSON lines on stderr (stdout is the command's answer): the
 * operator's actions belong in the same audit trail as the servers' events. A store
 * fault is not logged here: the command reports it as its one line.
 */
function eventsTo(io: Io): SecurityLogger {
  return (entry) => {
    if (entry.event === 'store_unavailable') return;
    io.err(JSON.stringify({ level: 'info', source: 'latchkey-cli', ...entry }));
  };
}

/**
 * Runs `work` on a Latchkey built exactly as the server builds it (same environment,
 * stores, secrets and keys), then closes the stores. A store fault is exit 3.
 */
export async function withLatchkey<T>(
  env: Env,
  io: Io,
  work: (latchkey: Latchkey) => Promise<T>,
): Promise<T> {
  const settings = settingsFrom(env);
  const opened = await openLatchkeyStores(settings, { command: true }).catch((error: unknown) => {
    throw cannotOpen(error);
  });
  try {
    const latchkey = createLatchkey(
      await latchkeyOptions(settings, opened.store, { logger: eventsTo(io) }),
    );
    return await work(latchkey);
  } catch (error) {
    if (error instanceof LatchkeyError && error.code === 'store_unavailable') {
      throw new CliError(
        `the store stopped answering: ${describeError(error.cause)} (it may have done part of the work; it is safe to run again)`,
        EXIT.unavailable,
        { cause: error },
      );
    }
    if (error instanceof ConfigError) throw cannotOpen(error);
    throw error;
  } finally {
    await opened.store.close();
  }
}

/** A failed operation's result as the command's one line (exit 1). */
export function failed(subject: string, error: LatchkeyError): CliError {
  return new CliError(`${subject}: ${error.message}`, EXIT.failed, { cause: error });
}
