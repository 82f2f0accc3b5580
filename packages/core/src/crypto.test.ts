import { describe, expect, it } from 'vitest';
import * as nodeCrypto from 'node:crypto';
import {
  base64url,
  constantTimeEqual,
  createNodeSigner,
  createSigner,
  createWebCryptoSigner,
  fromBase64url,
  randomToken,
  sha256,
  sha256WebCrypto,
} from './crypto.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('randomToken', () => {
  it('gives 256 bits as 43 base64url characters, never repeating', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('sha256', () => {
  it('matches the known vector', async () => {
    expect(await sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('base64url', () => {
  it('round-trips and rejects non-alphabet input', () => {
    const bytes = new Uint8Array([0, 255, 62, 63, 1]);
    expect(fromBase64url(base64url(bytes))).toEqual(bytes);
    expect(fromBase64url('ab+/')).toBeNull();
  });
});

describe('constantTimeEqual', () => {
  it('compares content and length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('createSigner', () => {
  it('verifies its own signature and nothing altered', async () => {
    const signer = createSigner([A]);
    const sig = await signer.sign('session', 'id.secret');
    expect(await signer.verify('session', 'id.secret', sig)).toEqual({ valid: true, renew: false });
    expect((await signer.verify('session', 'id.secret2', sig)).valid).toBe(false);
    expect((await signer.verify('session', 'id.secret', sig.slice(0, -2) + 'AA')).valid).toBe(
      false,
    );
    expect((await signer.verify('session', 'id.secret', '')).valid).toBe(false);
  });

  it('separates purposes: a session signature is not a CSRF token', async () => {
    const signer = createSigner([A]);
    const sig = await signer.sign('session', 'm');
    expect((await signer.verify('csrf', 'm', sig)).valid).toBe(false);
  });

  it('rotates keys: old key still verifies and asks for renewal; removed key fails', async () => {
    const old = createSigner([A]);
    const sig = await old.sign('session', 'm');
    const rotated = createSigner([B, A]);
    expect(await rotated.verify('session', 'm', sig)).toEqual({ valid: true, renew: true });
    expect(await rotated.verify('session', 'm', await rotated.sign('session', 'm'))).toEqual({
      valid: true,
      renew: false,
    });
    expect((await createSigner([B]).verify('session', 'm', sig)).valid).toBe(false);
  });
});

describe('the node:crypto and WebCrypto implementations', () => {
  it('produce identical hashes and signatures, and verify each other', async () => {
    expect(await sha256WebCrypto('abc')).toBe(await sha256('abc'));
    const web = createWebCryptoSigner([A, B]);
    const node = createNodeSigner(nodeCrypto, [A, B]);
    const signature = await web.sign('session', 'id.secret');
    expect(await node.sign('session', 'id.secret')).toBe(signature);
    expect(await node.verify('session', 'id.secret', signature)).toEqual({
      valid: true,
      renew: false,
    });
    const old = await createWebCryptoSigner([B]).sign('csrf', 'm');
    expect(await node.verify('csrf', 'm', old)).toEqual({ valid: true, renew: true });
    expect(await web.verify('csrf', 'm', old)).toEqual({ valid: true, renew: true });
    expect((await web.verify('csrf', 'm2', old)).valid).toBe(false);
  });
});
