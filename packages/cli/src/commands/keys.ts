import type { SigningAlgorithm } from '@latchkey/core';
import { defineCommand, type Group } from '../command.js';
import { CliError, EXIT, usageError } from '../errors.js';

// The core and the stores load only when a command needs them: help and usage errors
// answer at once.

const ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256'];

const generate = defineCommand({
  name: 'keys generate',
  summary: 'print a new JWK Set of signing keys for LATCHKEY_SIGNING_KEYS',
  synopsis: '[--alg EdDSA|ES256]',
  details: [
    'Prints a JWK Set with one new private signing key (token mode), on one line: the value for LATCHKEY_SIGNING_KEYS on every server. Writes no file. To rotate keys kept in that variable, put a new key first and remove the old one after the longest access-token lifetime (1h).',
  ],
  options: {
    alg: {
      type: 'string' as const,
      value: 'ALG',
      description: 'EdDSA (Ed25519, the default) or ES256',
    },
  },
  usesConfig: false,
  async run(values, io) {
    const alg = values.alg ?? 'EdDSA';
    if (!ALGORITHMS.includes(alg as SigningAlgorithm)) {
      throw usageError('keys generate', `--alg must be EdDSA or ES256, got ${JSON.stringify(alg)}`);
    }
    const { generateSigningJwk } = await import('@latchkey/core');
    io.out(JSON.stringify({ keys: [await generateSigningJwk(alg as SigningAlgorithm)] }));
    return EXIT.ok;
  },
});

const rotate = defineCommand({
  name: 'keys rotate',
  summary: 'rotate the signing keys kept in the data dir',
  synopsis: '[--json]',
  details: [
    'Token mode without LATCHKEY_SIGNING_KEYS (development): adds a new signing key to <data dir>/signing-keys.json. It signs from the next start; the previous key keeps verifying for one maximum access-token lifetime (1h), and a later rotation drops it. Restart the servers afterwards. (This is what `npm run keys -- rotate` runs.)',
  ],
  options: { json: { type: 'boolean' as const, description: 'print what changed as JSON' } },
  usesConfig: true,
  async run(values, io, env) {
    const { settingsFrom } = await import('../operator.js');
    const { rotateSigningKeys, signingKeysFile } = await import('../config/index.js');
    const settings = settingsFrom(env);
    const file = signingKeysFile(settings.dataDir);
    if (settings.signingKeys) {
      throw new CliError(
        `keys rotate: LATCHKEY_SIGNING_KEYS is set, so the servers never read ${file}: put a key from \`latchkey keys generate\` first in that set, and remove the old one an hour later`,
        EXIT.failed,
      );
    }
    const result = await rotateSigningKeys(settings.dataDir);
    if (values.json) {
      io.out(JSON.stringify({ file, ...result }));
    } else {
      io.out(
        `New signing key ${result.added} in ${file}` +
          (result.retired ? `; ${result.retired} retired (still verifies for 1h)` : '') +
          (result.dropped.length ? `; dropped ${result.dropped.join(', ')}` : '') +
          '. Restart the servers to sign with the new key.',
      );
    }
    return EXIT.ok;
  },
});

export const keysGroup: Group = {
  name: 'keys',
  summary: 'Signing keys of token mode (access tokens are signed JWTs).',
  commands: [generate, rotate],
};
