import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

// The backend-for-frontend keys: all three client keys or none, each mistake a
// one-line error naming the environment key.
const OIDC = {
  LATCHKEY_OIDC_ISSUER: 'https://id.example',
  LATCHKEY_OIDC_CLIENT_ID: 'latchkey',
  LATCHKEY_OIDC_CLIENT_SECRET: 's'.repeat(32),
};

describe('readEnv: OpenID provider and upstream', () => {
  it('reads the provider, its name and the upstream into the oidc option', () => {
    const settings = readEnv({
      ...OIDC,
      LATCHKEY_OIDC_NAME: 'Acme ID',
      LATCHKEY_UPSTREAM_URL: 'https://api.example/v1',
    });
    expect(settings.options.oidc).toEqual({
      issuer: 'https://id.example',
      clientId: 'latchkey',
      clientSecret: 's'.repeat(32),
      name: 'Acme ID',
      upstream: { url: 'https://api.example/v1' },
    });
    expect(readEnv({}).options.oidc).toBeUndefined();
  });

  it.each([
    [{ LATCHKEY_OIDC_ISSUER: 'https://id.example' }, 'LATCHKEY_OIDC_CLIENT_ID'],
    [{ ...OIDC, LATCHKEY_OIDC_CLIENT_SECRET: '' }, 'LATCHKEY_OIDC_CLIENT_SECRET'],
    [{ LATCHKEY_UPSTREAM_URL: 'https://api.example' }, 'LATCHKEY_UPSTREAM_URL'],
    [{ ...OIDC, LATCHKEY_OIDC_ISSUER: 'http://id.example' }, 'LATCHKEY_OIDC_ISSUER'],
    [{ ...OIDC, LATCHKEY_UPSTREAM_URL: 'not a url' }, 'LATCHKEY_UPSTREAM_URL'],
  ])('refuses %j, naming %s', (env, key) => {
    expect(() => readEnv(env)).toThrow(new RegExp(`^${key}: `));
  });
});
