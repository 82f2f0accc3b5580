import { parseDuration, type Duration } from '../duration.js';

/** Start-up configuration failure; the message is one line that names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function duration(key: string, value: Duration | undefined, fallback: Duration): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === null || ms <= 0) {
    throw new ConfigError(
      `${key}: expected a duration like 90s, 15m, 12h or 30d, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** One less than the cores this process may use (Node's availableParallelism), at least 1. */
export function defaultHashConcurrency(): number {
  const os = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const cores =
    os?.availableParallelism?.() ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency ??
    2;
  return Math.max(1, cores - 1);
}

export function integer(
  key: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Returns the origin of a URL, or throws naming the key. */
export function originOf(key: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${key}: expected an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${key}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.origin;
}
