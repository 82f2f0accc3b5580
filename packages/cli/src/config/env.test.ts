import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

// Option values are checked by the core's own rules (checkOptions), and the errors
// name the environment key an operator sets.
describe('readEnv', () => {
  it('applies API.md defaults', () => {
    expect(readEnv({})).toMatchObject({
      port: 3000,
      host: 'localhost',
      mode: 'session',
      secrets: null,
      dataDir: './data',
      redisUrl: null,
      redisPrefix: 'latchkey:',
      databaseUrl: null,
      databaseSchema: 'public',
      publicUrl: 'http://localhost:3000',
      // Unset durations are left to createLatchkey's defaults (API.md: 30m, 12h, 10m, 10s).
      options: {
        mode: 'session',
        publicUrl: 'http://localhost:3000',
        origins: [],
        session: {},
        token: {},
        rateLimit: { loginLimit: 5, registerLimit: 10 },
        trustedProxies: 0,
      },
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
      LATCHKEY_REDIS_PREFIX: 'app1:',
      LATCHKEY_DATABASE_SCHEMA: 'app1',
    });
    expect(settings).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      secrets: ['a'.repeat(32), 'b'.repeat(40)],
      publicUrl: 'https://app.example.com',
      redisPrefix: 'app1:',
      databaseSchema: 'app1',
      options: {
        session: { idleTimeout: '15m', absoluteTimeout: '8h' },
        token: { accessTtl: '5m', refreshRetryWindow: '5s' },
        origins: ['https://admin.example.com', 'https://m.example.com'],
        rateLimit: { loginLimit: 3, registerLimit: 10 },
      },
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT:/],
    [{ LATCHKEY_MODE: 'jwt' }, /^LATCHKEY_MODE:/],
    [{ LATCHKEY_SIGNING_KEYS: 'nope' }, /^LATCHKEY_SIGNING_KEYS:/],
    [{ LATCHKEY_TRUSTED_PROXIES: '99' }, /^LATCHKEY_TRUSTED_PROXIES:/],
    [{ LATCHKEY_NEAR_CACHE: '10m', LATCHKEY_REDIS_URL: 'redis://x' }, /^LATCHKEY_NEAR_CACHE:/],
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
    [
      { LATCHKEY_MODE: 'token', LATCHKEY_ACCESS_TTL: '2h' },
      /^LATCHKEY_ACCESS_TTL: must not be above 1h/,
    ],
    [{ LATCHKEY_PUBLIC_URL: 'localhost' }, /^LATCHKEY_PUBLIC_URL:/],
    [{ LATCHKEY_ORIGINS: 'x' }, /^LATCHKEY_ORIGINS:/],
    [{ LATCHKEY_LOGIN_LIMIT: '0' }, /^LATCHKEY_LOGIN_LIMIT:/],
    [{ LATCHKEY_REGISTER_LIMIT: 'many' }, /^LATCHKEY_REGISTER_LIMIT:/],
    [{ LATCHKEY_REDIS_PREFIX: 'a{b}' }, /^LATCHKEY_REDIS_PREFIX:/],
    [{ LATCHKEY_DATABASE_SCHEMA: 'Public; DROP' }, /^LATCHKEY_DATABASE_SCHEMA:/],
    // Servers sharing a store must share keys: a per-machine secret would sign users out.
    [
      { LATCHKEY_REDIS_URL: 'redis://127.0.0.1:6379' },
      /^LATCHKEY_SECRET: required with a shared store \(LATCHKEY_REDIS_URL\).*npx latchkey secret$/,
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
    const mail = { LATCHKEY_SMTP_URL: 'smtps://mail.example.com:465' };
    const dev = readEnv({ LATCHKEY_SECRET: 'x'.repeat(32), ...mail });
    const prod = readEnv({ LATCHKEY_SECRET: 'x'.repeat(32), NODE_ENV: 'production', ...mail });
    expect({ ...prod, production: false }).toEqual(dev);
  });
});
