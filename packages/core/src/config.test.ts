import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, type LatchkeyOptions } from './config.js';
import { readEnv } from './env.js';
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

describe('readEnv', () => {
  it('applies API.md defaults', () => {
    expect(readEnv({})).toMatchObject({
      port: 3000,
      host: 'localhost',
      mode: 'session',
      secrets: null,
      dataDir: './data',
      redisUrl: null,
      databaseUrl: null,
      idleTimeoutMs: 1_800_000,
      absoluteTimeoutMs: 43_200_000,
      accessTtlMs: 600_000,
      refreshRetryWindowMs: 10_000,
      publicUrl: 'http://localhost:3000',
      origins: [],
      loginLimit: 5,
    });
  });

  it('reads every key', () => {
    const settings = readEnv({
      PORT: '8080',
      HOST: '127.0.0.1',
      LATCHKEY_SECRET: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
      LATCHKEY_DATA_DIR: '/var/lib/latchkey',
      LATCHKEY_REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://postgres@127.0.0.1/test',
      LATCHKEY_IDLE_TIMEOUT: '15m',
      LATCHKEY_ABSOLUTE_TIMEOUT: '8h',
      LATCHKEY_ACCESS_TTL: '5m',
      LATCHKEY_REFRESH_RETRY_WINDOW: '5s',
      LATCHKEY_PUBLIC_URL: 'https://app.example.com',
      LATCHKEY_ORIGINS: 'https://admin.example.com, https://m.example.com',
      LATCHKEY_LOGIN_LIMIT: '3',
    });
    expect(settings).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      secrets: ['a'.repeat(32), 'b'.repeat(40)],
      idleTimeoutMs: 900_000,
      absoluteTimeoutMs: 28_800_000,
      accessTtlMs: 300_000,
      refreshRetryWindowMs: 5000,
      publicUrl: 'https://app.example.com',
      origins: ['https://admin.example.com', 'https://m.example.com'],
      loginLimit: 3,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT:/],
    [{ LATCHKEY_MODE: 'jwt' }, /^LATCHKEY_MODE:/],
    [{ LATCHKEY_SIGNING_KEYS: 'nope' }, /^LATCHKEY_SIGNING_KEYS:/],
    [{ LATCHKEY_NEAR_CACHE: '30s' }, /^LATCHKEY_NEAR_CACHE: needs LATCHKEY_REDIS_URL/],
    [{ LATCHKEY_NEAR_CACHE: 'soon', LATCHKEY_REDIS_URL: 'redis://x' }, /^LATCHKEY_NEAR_CACHE:/],
    [
      { LATCHKEY_MODE: 'token', NODE_ENV: 'production', LATCHKEY_SECRET: 'x'.repeat(32) },
      /^LATCHKEY_SIGNING_KEYS: required/,
    ],
    [{ LATCHKEY_SECRET: 'short' }, /^LATCHKEY_SECRET:/],
    [{ NODE_ENV: 'production' }, /^LATCHKEY_SECRET: required/],
    [{ LATCHKEY_IDLE_TIMEOUT: 'soon' }, /^LATCHKEY_IDLE_TIMEOUT:/],
    [{ LATCHKEY_ABSOLUTE_TIMEOUT: '10m' }, /^LATCHKEY_IDLE_TIMEOUT: must not be longer/],
    [{ LATCHKEY_ACCESS_TTL: '2h' }, /^LATCHKEY_ACCESS_TTL: must not be above 1h/],
    [{ LATCHKEY_PUBLIC_URL: 'localhost' }, /^LATCHKEY_PUBLIC_URL:/],
    [{ LATCHKEY_ORIGINS: 'x' }, /^LATCHKEY_ORIGINS:/],
    [{ LATCHKEY_LOGIN_LIMIT: '0' }, /^LATCHKEY_LOGIN_LIMIT:/],
    [{ LATCHKEY_REGISTER_LIMIT: 'many' }, /^LATCHKEY_REGISTER_LIMIT:/],
    // Servers sharing a store must share keys: a per-machine secret would sign users out.
    [
      { LATCHKEY_REDIS_URL: 'redis://127.0.0.1:6379' },
      /^LATCHKEY_SECRET: required with a shared store \(LATCHKEY_REDIS_URL\)/,
    ],
    [
      { DATABASE_URL: 'postgres://db/app' },
      /^LATCHKEY_SECRET: required with a shared store \(DATABASE_URL\)/,
    ],
    [
      {
        DATABASE_URL: 'postgres://db/app',
        LATCHKEY_SECRET: 'x'.repeat(32),
        LATCHKEY_MODE: 'token',
      },
      /^LATCHKEY_SIGNING_KEYS: required in token mode with a shared store/,
    ],
  ])('fails with one line naming the key: %j', (env, message) => {
    expect(() => readEnv(env)).toThrow(message);
    try {
      readEnv(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('takes a secret in production when one is given; NODE_ENV changes nothing else', () => {
    const dev = readEnv({ LATCHKEY_SECRET: 'x'.repeat(32) });
    const prod = readEnv({ LATCHKEY_SECRET: 'x'.repeat(32), NODE_ENV: 'production' });
    expect({ ...prod, production: false }).toEqual(dev);
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
