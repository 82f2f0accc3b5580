import type { LatchkeyOptions, LatchkeyStore } from '@latchkey/core';
import type { EnvSettings } from './env.js';
import { loadOrCreateDevSigningKeys } from './keys.js';
import { loadOrCreateDevSecret } from './secret.js';

/**
 * The `createLatchkey` options the environment describes, on `store`: the secrets
 * (LATCHKEY_SECRET, or outside production the development secret kept in the data
 * dir) and, in token mode, the signing keys (LATCHKEY_SIGNING_KEYS, or the generated
 * ones in the data dir). What `npm start` runs with, so a command signs and verifies
 * exactly as the servers do. `extra` (a logger, say) is added last.
 */
export async function latchkeyOptions(
  settings: EnvSettings,
  store: LatchkeyStore,
  extra: Partial<Omit<LatchkeyOptions, 'store'>> = {},
): Promise<LatchkeyOptions> {
  const { token: tokenTimes, ...options } = settings.options;
  return {
    store,
    secrets: settings.secrets ?? [loadOrCreateDevSecret(settings.dataDir)],
    ...options,
    ...(settings.mode === 'token'
      ? {
          token: {
            ...tokenTimes,
            keys: settings.signingKeys ?? (await loadOrCreateDevSigningKeys(settings.dataDir)),
          },
        }
      : {}),
    ...extra,
  };
}
