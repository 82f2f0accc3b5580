import { createHmac } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { base64url } from '../crypto.js';
import { createAccessTokens, type AccessTokens } from './access.js';
import { createKeySet, generateSigningJwk, type SigningJwk } from './keys.js';

const ISS = 'http://localhost:3000';
let now = Date.UTC(2026, 10, 22, 12);
let jwk: SigningJwk;
let tokens: AccessTokens;

const b64json = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));
const decode = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

beforeAll(async () => {
  jwk = await generateSigningJwk('EdDSA');
  tokens = createAccessTokens({
    keys: createKeySet([jwk], 'EdDSA'),
    issuer: ISS,
    audience: ISS,
    ttlMs: 600_000,
    now: () => now,
  });
});

/** Signs arbitrary claims with a key of the attacker's choosing, as a forger would. */
async function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown>,
  key: SigningJwk = jwk,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', ...header })
    .sign(await importJWK(key, 'EdDSA'));
}

const goodClaims = () => ({
  sub: 'user-1',
  sid: 'session-1',
  jti: 'j',
  iss: ISS,
  aud: ISS,
  iat: Math.floor(now / 1000),
  exp: Math.floor(now / 1000) + 600,
});

describe('access tokens', () => {
  it('issues an at+jwt with kid and the claims of API.md, and verifies it', async () => {
    const { token, expiresAt } = await tokens.issue('user-1', 'session-1');
    const [header, payload] = token.split('.') as [string, string];
    expect(decode(header)).toEqual({ alg: 'EdDSA', kid: jwk.kid, typ: 'at+jwt' });
    expect(Object.keys(decode(payload)).sort()).toEqual([
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'sid',
      'sub',
    ]);
    expect(expiresAt).toBe((Math.floor(now / 1000) + 600) * 1000);
    expect(await tokens.verify(token)).toMatchObject({ sub: 'user-1', sid: 'session-1' });
  });

  it('a correctly forged control token (right key, right claims) verifies', async () => {
    expect(
      await tokens.verify(await forge(goodClaims(), { kid: jwk.kid, typ: 'at+jwt' })),
    ).not.toBeNull();
  });

  it('refuses an iat in the future and a lifetime above the configured TTL', async () => {
    const header = { kid: jwk.kid, typ: 'at+jwt' };
    const t = Math.floor(now / 1000);
    // Signed with the real key, so only the iat/exp rules can refuse them.
    expect(await tokens.verify(await forge({ ...goodClaims(), iat: t + 60 }, header))).toBeNull();
    expect(
      await tokens.verify(await forge({ ...goodClaims(), iat: t, exp: t + 601 }, header)),
    ).toBeNull();
    expect(
      await tokens.verify(await forge({ ...goodClaims(), iat: t - 10, exp: t + 590 }, header)),
    ).not.toBeNull();
  });

  it('refuses alg: none', async () => {
    const token = `${b64json({ alg: 'none', kid: jwk.kid, typ: 'at+jwt' })}.${b64json(goodClaims())}.`;
    expect(await tokens.verify(token)).toBeNull();
    expect(await tokens.verify(`${token}AAAAAAAAAAAA`)).toBeNull();
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const { x } = jwk;
    for (const secret of [
      JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x }),
      x ?? '',
      Buffer.from(x ?? '', 'base64url'),
    ]) {
      const head = `${b64json({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' })}.${b64json(goodClaims())}`;
      const sig = createHmac('sha256', secret).update(head).digest('base64url');
      expect(await tokens.verify(`${head}.${sig}`)).toBeNull();
    }
  });

  it('refuses a tampered payload', async () => {
    const { token } = await tokens.issue('user-1', 'session-1');
    const [h, p, s] = token.split('.') as [string, string, string];
    const tampered = b64json({ ...decode(p), sub: 'admin' });
    expect(await tokens.verify(`${h}.${tampered}.${s}`)).toBeNull();
  });

  it('refuses a foreign key presenting a known kid, and an unknown or missing kid', async () => {
    const foreign = await generateSigningJwk('EdDSA');
    expect(
      await tokens.verify(await forge(goodClaims(), { kid: jwk.kid, typ: 'at+jwt' }, foreign)),
    ).toBeNull();
    expect(
      await tokens.verify(await forge(goodClaims(), { kid: 'nope', typ: 'at+jwt' })),
    ).toBeNull();
    expect(await tokens.verify(await forge(goodClaims(), { typ: 'at+jwt' }))).toBeNull();
  });

  it.each([
    ['expired', { exp: Math.floor(Date.UTC(2026, 10, 22, 12) / 1000) - 1 }],
    ['expiring this very second', { exp: Math.floor(Date.UTC(2026, 10, 22, 12) / 1000) }],
    ['not yet valid (nbf)', { nbf: Math.floor(Date.UTC(2026, 10, 22, 12) / 1000) + 60 }],
    ['for another issuer', { iss: 'https://evil.example' }],
    ['for another audience', { aud: 'https://other-service.example' }],
    ['without sid', { sid: undefined }],
  ])('refuses a token %s', async (_label, patch) => {
    now = Date.UTC(2026, 10, 22, 12);
    const token = await forge({ ...goodClaims(), ...patch }, { kid: jwk.kid, typ: 'at+jwt' });
    expect(await tokens.verify(token)).toBeNull();
  });

  it('refuses a token of another type (e.g. an ID token signed by the same key)', async () => {
    expect(await tokens.verify(await forge(goodClaims(), { kid: jwk.kid, typ: 'JWT' }))).toBeNull();
  });

  it('enforces exp to the second, even for a token verified (and cached) before', async () => {
    now = Date.UTC(2026, 10, 22, 12);
    const { token, expiresAt } = await tokens.issue('user-1', 'session-1');
    expect(await tokens.verify(token)).not.toBeNull();
    now = expiresAt - 1;
    expect(await tokens.verify(token)).not.toBeNull();
    now = expiresAt;
    expect(await tokens.verify(token)).toBeNull();
    now = Date.UTC(2026, 10, 22, 12);
  });

  it('rejects garbage without throwing', async () => {
    for (const junk of ['', 'a.b.c', 'x'.repeat(10_000), '....', 'eyJ.eyJ.sig']) {
      expect(await tokens.verify(junk)).toBeNull();
    }
  });
});

describe('key sets', () => {
  it('publish only public members', async () => {
    const keys = createKeySet([jwk, await generateSigningJwk('EdDSA')], 'EdDSA');
    for (const published of keys.jwks.keys) {
      expect(Object.keys(published).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    }
    expect(JSON.stringify(keys.jwks)).not.toContain(jwk.d);
  });

  it('verify tokens of a rotated-out key while it is still listed', async () => {
    const old = createAccessTokens({
      keys: createKeySet([jwk], 'EdDSA'),
      issuer: ISS,
      audience: ISS,
      ttlMs: 600_000,
      now: () => now,
    });
    const { token } = await old.issue('u', 's');
    const fresh = await generateSigningJwk('EdDSA');
    const rotated = createAccessTokens({
      keys: createKeySet([fresh, { ...jwk }], 'EdDSA'),
      issuer: ISS,
      audience: ISS,
      ttlMs: 600_000,
      now: () => now,
    });
    expect(await rotated.verify(token)).not.toBeNull();
    const retired = createAccessTokens({
      keys: createKeySet([fresh], 'EdDSA'),
      issuer: ISS,
      audience: ISS,
      ttlMs: 600_000,
      now: () => now,
    });
    expect(await retired.verify(token)).toBeNull();
  });

  it('supports ES256 and refuses mixing algorithms or a public-only signing key', async () => {
    const es = await generateSigningJwk('ES256');
    const keys = createKeySet([es], 'ES256');
    const es256 = createAccessTokens({
      keys,
      issuer: ISS,
      audience: ISS,
      ttlMs: 60_000,
      now: () => now,
    });
    const { token } = await es256.issue('u', 's');
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).alg).toBe(
      'ES256',
    );
    expect(await es256.verify(token)).not.toBeNull();
    expect(() => createKeySet([es, jwk], 'ES256')).toThrow(/alg must be ES256/);
    const publicOnly: Partial<SigningJwk> = { ...jwk };
    delete publicOnly.d;
    expect(() => createKeySet([publicOnly as SigningJwk], 'EdDSA')).toThrow(/private key/);
  });
});
