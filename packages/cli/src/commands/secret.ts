import { randomBytes } from 'node:crypto';
import { defineCommand } from '../command.js';
import { EXIT } from '../errors.js';

/** Bytes of randomness in a secret: 256 bits, 43 characters of base64url. */
const SECRET_BYTES = 32;

/** A new secret for LATCHKEY_SECRET. */
export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export const secretCommand = defineCommand({
  name: 'secret',
  summary: 'print a new secret for LATCHKEY_SECRET',
  synopsis: '',
  details: [
    `Prints a new secret: ${SECRET_BYTES} random bytes from node:crypto, base64url (43 characters). Set it as LATCHKEY_SECRET on every server that shares the store. To rotate, put the new secret first and keep the old one after it (LATCHKEY_SECRET=new,old): the first signs, all verify.`,
  ],
  options: {},
  usesConfig: false,
  run(_values, io) {
    io.out(newSecret());
    return Promise.resolve(EXIT.ok);
  },
});
