import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, type LatchkeyOptions } from './config.js';
import { createMemoryStore } from './stores/memory.js';

const base = (): LatchkeyOptions => ({
  store: createMemoryStore(),
  secrets: ['s'.repeat(32)],
  publicUrl: 'http://localhost:3000',
});

describe('resolveConfig', () => {
  it('fills documented defaults and freezes the result', () => {
    const config = resolveConfig(base());
    expect(config).toMatchObject({
      publicOrigin: 'http://localhost:3000',
      mode: 'session',
      basePath: '/auth',
      idleTimeoutMs: 30 * 60_000,
      absoluteTimeoutMs: 12 * 3_600_000,
      touchIntervalMs: 60_000,
      passwordMinLength: 15,
      passwordMaxLength: 128,
      loginLimit: 5,
      addressLimit: 100,
      rateLimitWindowMs: 15 * 60_000,
      xssProtection: '0',
      bodyLimit: 16_384,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lets argon2id use one core less than the machine has, at least one', async () => {
    const { availableParallelism } = await import('node:os');
    expect(resolveConfig(base()).hashConcurrency).toBe(Math.max(1, availableParallelism() - 1));
    expect(resolveConfig({ ...base(), password: { hashConcurrency: 3 } }).hashConcurrency).toBe(3);
    expect(() => resolveConfig({ ...base(), password: { hashConcurrency: 0 } })).toThrow(
      /^password\.hashConcurrency/,
    );
  });

  it('caps the touch interval at half the idle timeout so an active session never lapses', () => {
    const config = resolveConfig({
      ...base(),
      session: { idleTimeout: '60s', touchInterval: '10m' },
    });
    expect(config.touchIntervalMs).toBe(30_000);
  });

  it.each([
    [{ secrets: [] }, /^secrets/],
    [{ secrets: ['short'] }, /^secrets\[0\]/],
    [{ publicUrl: 'not a url' }, /^publicUrl/],
    [{ publicUrl: 'ftp://x' }, /^publicUrl/],
    [{ origins: ['nope'] }, /^origins\[0\]/],
    [{ session: { idleTimeout: '5 minutes' as never } }, /^session\.idleTimeout/],
    [{ session: { idleTimeout: '13h' } }, /^session\.idleTimeout/],
    [{ password: { minLength: 6 } }, /^password\.minLength/],
    [{ rateLimit: { loginLimit: 0 } }, /^rateLimit\.loginLimit/],
    [{ headers: { contentSecurityPolicy: "default-src 'self'" } }, /frame-ancestors/],
    [{ headers: { hstsMaxAge: 3600 } }, /^headers\.hstsMaxAge/],
    // In a browser `//auth/login` names a host called auth.
    [{ basePath: '//auth' }, /^basePath/],
    [{ basePath: '/a//b' }, /^basePath/],
    [{ basePath: '/auth/' }, /^basePath/],
    [{ headers: { clearSiteData: ['cookies' as never] } }, /^headers\.clearSiteData/],
    [{ mode: 'cookie' as never }, /^mode/],
  ] as [Partial<LatchkeyOptions>, RegExp][])('fails fast naming the key: %j', (patch, message) => {
    const options: LatchkeyOptions = { ...base(), ...patch };
    expect(() => resolveConfig(options)).toThrow(ConfigError);
    expect(() => resolveConfig(options)).toThrow(message);
  });

  it('allows lowering the password minimum to 8, not below', () => {
    expect(resolveConfig({ ...base(), password: { minLength: 8 } }).passwordMinLength).toBe(8);
  });
});

describe('unsafe options', () => {
  it('default to every defence on', () => {
    expect(resolveConfig(base()).unsafe).toEqual({
      disableCrossOriginCheck: false,
      disableCsrfToken: false,
      sameSite: 'Strict',
    });
  });
});
