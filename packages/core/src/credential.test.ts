import { describe, expect, it } from 'vitest';
import { createCredentialCodec } from './credential.js';
import { createSigner, randomToken, sha256, type Signer } from './crypto.js';

/** A real signer that counts verifications. */
function counting(secrets: string[]): Signer & { verifications: number } {
  const signer = createSigner(secrets);
  const counted = {
    verifications: 0,
    sign: (purpose: string, message: string) => signer.sign(purpose, message),
    verify(purpose: string, message: string, signature: string) {
      counted.verifications++;
      return signer.verify(purpose, message, signature);
    },
  };
  return counted;
}

const KEY = 'k'.repeat(32);
const OLD_KEY = 'o'.repeat(32);
const id = () => randomToken(16);

describe('createCredentialCodec', () => {
  it('decodes what it encoded, with the SHA-256 of the secret the store keeps', async () => {
    const codec = createCredentialCodec(createSigner([KEY]), 'session');
    const secret = randomToken();
    const sessionId = id();
    const decoded = await codec.decode(await codec.encode(sessionId, secret));
    expect(decoded).toEqual({
      id: sessionId,
      secret,
      secretHash: await sha256(secret),
      renew: false,
    });
  });

  it('refuses malformed, tampered and foreign-purpose values, also once the genuine one is cached', async () => {
    const codec = createCredentialCodec(createSigner([KEY]), 'session', { cacheEntries: 10 });
    const genuine = await codec.encode(id(), randomToken());
    expect(await codec.decode(genuine)).not.toBeNull();
    const flip = (s: string, at: number) =>
      s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    expect(await codec.decode(flip(genuine, 30))).toBeNull(); // in the secret
    expect(await codec.decode(flip(genuine, genuine.length - 5))).toBeNull(); // in the signature
    expect(await codec.decode(`${genuine} `)).toBeNull();
    expect(await codec.decode(genuine.slice(0, -1))).toBeNull();
    expect(await codec.decode(null)).toBeNull();
    expect(await codec.decode('')).toBeNull();
    const other = createCredentialCodec(createSigner([KEY]), 'refresh');
    expect(await other.decode(genuine)).toBeNull();
  });

  it('verifies a remembered value once; without a cache, every time', async () => {
    const cachedSigner = counting([KEY]);
    const cached = createCredentialCodec(cachedSigner, 'session', { cacheEntries: 10 });
    const value = await cached.encode(id(), randomToken());
    for (let i = 0; i < 5; i++) expect(await cached.decode(value)).not.toBeNull();
    expect(cachedSigner.verifications).toBe(1);

    const plainSigner = counting([KEY]);
    const plain = createCredentialCodec(plainSigner, 'session');
    for (let i = 0; i < 5; i++) expect(await plain.decode(value)).not.toBeNull();
    expect(plainSigner.verifications).toBe(5);
  });

  it('never remembers a value that failed, and stays within its size', async () => {
    const signer = counting([KEY]);
    const codec = createCredentialCodec(signer, 'session', { cacheEntries: 2 });
    const forged = `${id()}.${randomToken()}.${randomToken()}`;
    expect(await codec.decode(forged)).toBeNull();
    expect(await codec.decode(forged)).toBeNull();
    expect(signer.verifications).toBe(2);

    const [a, b, c] = await Promise.all([1, 2, 3].map(() => codec.encode(id(), randomToken())));
    for (const value of [a, b, c]) await codec.decode(value as string);
    expect(signer.verifications).toBe(5);
    await codec.decode(a as string); // the oldest was dropped to make room for c
    expect(signer.verifications).toBe(6);
    await codec.decode(c as string);
    expect(signer.verifications).toBe(6);
  });

  it('keeps the renew flag of a value signed by an older key', async () => {
    const old = createCredentialCodec(createSigner([OLD_KEY]), 'session');
    const value = await old.encode(id(), randomToken());
    const rotated = createCredentialCodec(createSigner([KEY, OLD_KEY]), 'session', {
      cacheEntries: 10,
    });
    expect((await rotated.decode(value))?.renew).toBe(true);
    expect((await rotated.decode(value))?.renew).toBe(true);
  });
});
