import { readEnv } from './env.js';
import { rotateSigningKeys, signingKeysFile } from './keys.js';

// `npm run keys -- rotate`: rotate the token-mode signing keys kept in the data dir.
const [command] = process.argv.slice(2);
const { dataDir } = readEnv(process.env);

if (command === 'rotate') {
  const result = await rotateSigningKeys(dataDir);
  console.log(
    `latchkey: new signing key ${result.added} in ${signingKeysFile(dataDir)}` +
      (result.retired ? `; ${result.retired} retired (still verifies for 1h)` : '') +
      (result.dropped.length ? `; dropped ${result.dropped.join(', ')}` : '') +
      '. Restart the servers to sign with the new key.',
  );
} else {
  console.error('usage: npm run keys -- rotate');
  process.exit(2);
}
