import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

// The operations keys (API.md *Operations*, README): shutdown timeout and metrics port.
describe('readEnv: operations keys', () => {
  it('defaults: 10 s to drain, no metrics', () => {
    expect(readEnv({})).toMatchObject({ shutdownTimeoutMs: 10_000, metricsPort: null });
  });

  it('reads LATCHKEY_SHUTDOWN_TIMEOUT as a duration and LATCHKEY_METRICS_PORT as a port', () => {
    expect(
      readEnv({ LATCHKEY_SHUTDOWN_TIMEOUT: '30s', LATCHKEY_METRICS_PORT: '9464' }),
    ).toMatchObject({ shutdownTimeoutMs: 30_000, metricsPort: 9464 });
    expect(readEnv({ LATCHKEY_SHUTDOWN_TIMEOUT: '1500ms' }).shutdownTimeoutMs).toBe(1500);
  });

  it.each([['10'], ['-1s'], ['0s'], ['soon'], ['11m']])(
    'refuses LATCHKEY_SHUTDOWN_TIMEOUT=%s in one line naming the key',
    (value) => {
      expect(() => readEnv({ LATCHKEY_SHUTDOWN_TIMEOUT: value })).toThrow(
        /^LATCHKEY_SHUTDOWN_TIMEOUT: expected a duration/,
      );
    },
  );

  it.each([['0'], ['65536'], ['metrics'], ['9464.5']])(
    'refuses LATCHKEY_METRICS_PORT=%s',
    (value) => {
      expect(() => readEnv({ LATCHKEY_METRICS_PORT: value })).toThrow(/^LATCHKEY_METRICS_PORT: /);
    },
  );

  it('refuses a metrics port equal to the public port', () => {
    expect(() => readEnv({ PORT: '8080', LATCHKEY_METRICS_PORT: '8080' })).toThrow(
      'LATCHKEY_METRICS_PORT: must differ from PORT (8080)',
    );
  });
});
