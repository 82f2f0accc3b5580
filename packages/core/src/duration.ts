const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration as milliseconds, or a string like `90s`, `15m`, `12h`, `30d`. */
export type Duration = number | `${number}${keyof typeof UNIT_MS}`;

/**
 * Parses a duration. Returns null for anything that is not `<integer><unit>`
 * (or a non-negative finite number of milliseconds), so callers can name the key
 * that was wrong.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  }
  if (typeof value !== 'string') return null;
  const match = /^(\d{1,12})(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return null;
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Number(amount) * UNIT_MS[unit];
}
