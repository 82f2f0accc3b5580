/*
 * @latchkey/cli/config: the one configuration reader of the server (`npm start`) and
 * the `latchkey` command, so both see the same stores, secrets and keys.
 *
 *   env.ts      readEnv: the environment (API.md), validated once, errors naming the key
 *   stores.ts   openLatchkeyStores: SQLite / Redis / PostgreSQL / near-cache as it says
 *   options.ts  latchkeyOptions: the createLatchkey options on those stores
 *   secret.ts   the development secret kept in the data dir
 *   keys.ts     token mode's signing keys in the data dir: generated, rotated
 */
export { inEnvTerms, readEnv, type EnvSettings } from './env.js';
export {
  openLatchkeyStores,
  sqliteFile,
  type OpenedStores,
  type OpenStoresOptions,
} from './stores.js';
export { latchkeyOptions } from './options.js';
export { loadOrCreateDevSecret } from './secret.js';
export { loadOrCreateDevSigningKeys, rotateSigningKeys, signingKeysFile } from './keys.js';
