import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads every unit', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration(1500)).toBe(1500);
  });

  it('rejects anything else', () => {
    for (const bad of [
      '',
      '15',
      'm',
      '1.5h',
      '-1m',
      '15 minutes',
      '1w',
      null,
      undefined,
      -5,
      Number.NaN,
      {},
    ]) {
      expect(parseDuration(bad)).toBeNull();
    }
  });
});
