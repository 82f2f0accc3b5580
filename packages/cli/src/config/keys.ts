import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningJwk, type SigningJwk } from '@latchkey/core';

/** A stored key: the private JWK plus when it stopped signing. */
type StoredKey = SigningJwk & { retiredAt?: number };

/** Longest allowed access-token lifetime: a retired key must outlive every token it signed. */
const MAX_ACCESS_TTL_MS = 3_600_000;

export const signingKeysFile = (dataDir: string) => join(dataDir, 'signing-keys.json');

function read(file: string): StoredKey[] | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: StoredKey[] };
    return Array.isArray(parsed.keys) && parsed.keys.length > 0 ? parsed.keys : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: not a JWK Set of signing keys`, { cause: error });
  }
}

/** Writes atomically (temp file + rename), readable only by this user: it holds private keys. */
function write(file: string, keys: StoredKey[]): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/**
 * Development convenience for token mode: when LATCHKEY_SIGNING_KEYS is not given,
 * keep generated Ed25519 keys in the data dir so tokens survive restarts.
 */
export async function loadOrCreateDevSigningKeys(dataDir: string): Promise<SigningJwk[]> {
  const file = signingKeysFile(dataDir);
  const existing = read(file);
  if (existing) return existing.map(({ retiredAt: _retired, ...key }) => key);
  mkdirSync(dataDir, { recursive: true });
  const key = await generateSigningJwk('EdDSA');
  write(file, [key]);
  return [key];
}

/**
 * Rotates the signing keys in the data dir: a new key signs from the next start;
 * the previous one stays published (and verifying) for one maximum access-token
 * lifetime, then is dropped by a later rotation. Returns what changed.
 */
export async function rotateSigningKeys(
  dataDir: string,
  now = Date.now(),
): Promise<{ added: string; retired: string | null; dropped: string[] }> {
  const file = signingKeysFile(dataDir);
  const keys = read(file) ?? [];
  const algorithm = keys[0]?.alg ?? 'EdDSA';
  const fresh = await generateSigningJwk(algorithm);
  const previous = keys[0];
  const kept: StoredKey[] = [];
  const dropped: string[] = [];
  for (const key of keys) {
    const retiredAt = key === previous ? now : key.retiredAt;
    if (retiredAt !== undefined && now - retiredAt > MAX_ACCESS_TTL_MS) dropped.push(key.kid);
    else kept.push({ ...key, ...(retiredAt === undefined ? {} : { retiredAt }) });
  }
  mkdirSync(dataDir, { recursive: true });
  write(file, [fresh, ...kept]);
  return { added: fresh.kid, retired: previous?.kid ?? null, dropped };
}
