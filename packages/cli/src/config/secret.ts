import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Development convenience: when no LATCHKEY_SECRET is given (and NODE_ENV is not
 * production, which config refuses), generate one secret once and keep it in the
 * data dir, readable only by this user, so sessions survive restarts.
 */
export function loadOrCreateDevSecret(dataDir: string): string {
  const file = join(dataDir, 'dev-secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'w' });
  return secret;
}
