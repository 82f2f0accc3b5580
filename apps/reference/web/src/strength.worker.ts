/**
 * The password-strength worker: loads zxcvbn and its dictionaries (only here, never in the
 * page's bundle) and answers each request with the verdict of the server's own rule.
 */
import { assessPassword } from '@latchkey/core/strength';
import type { StrengthAnswer, StrengthRequest } from './strength.js';

/** The site's name, an easy word in its own passwords (the server's default `siteName`). */
const SITE_NAME = 'Latchkey';

addEventListener('message', (event: MessageEvent<StrengthRequest>) => {
  const { id, password, email, name } = event.data;
  void assessPassword(password, { email, name, siteName: SITE_NAME }).then((verdict) => {
    postMessage({ id, verdict } satisfies StrengthAnswer);
  });
});
