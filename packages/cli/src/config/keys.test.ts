import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateDevSigningKeys, rotateSigningKeys, signingKeysFile } from './keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-keys-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('development signing keys', () => {
  it('are generated once, private to the user, and reused', async () => {
    const first = await loadOrCreateDevSigningKeys(dir);
    const again = await loadOrCreateDevSigningKeys(dir);
    expect(again).toEqual(first);
    expect(first[0]).toMatchObject({ alg: 'EdDSA', crv: 'Ed25519', kty: 'OKP' });
    expect((await stat(signingKeysFile(dir))).mode & 0o077).toBe(0);
  });

  it('rotate: the new key signs, the old one stays for an hour, then is dropped', async () => {
    const [original] = await loadOrCreateDevSigningKeys(dir);
    const t0 = Date.UTC(2026, 10, 22);
    const first = await rotateSigningKeys(dir, t0);
    expect(first.retired).toBe(original?.kid);
    let keys = await loadOrCreateDevSigningKeys(dir);
    expect(keys.map((k) => k.kid)).toEqual([first.added, original?.kid]);
    const second = await rotateSigningKeys(dir, t0 + 3_600_001);
    expect(second.dropped).toEqual([original?.kid]);
    keys = await loadOrCreateDevSigningKeys(dir);
    expect(keys.map((k) => k.kid)).toEqual([second.added, first.added]);
    expect(JSON.parse(await readFile(signingKeysFile(dir), 'utf8')).keys[1].retiredAt).toBe(
      t0 + 3_600_001,
    );
  });
});
