import { fail, type LatchkeyError } from '../errors.js';
import { assessPassword } from '../strength.js';
import type { PasswordPolicy } from './context.js';

/** API.md's password policy: length, then zxcvbn strength; the 422 says why. */
export async function checkPassword(
  policy: PasswordPolicy,
  password: string,
  user: { email: string; name: string | null },
): Promise<LatchkeyError | null> {
  const verdict = await assessPassword(password, {
    minLength: policy.minLength,
    maxLength: policy.maxLength,
    minScore: policy.minScore,
    email: user.email,
    name: user.name,
    siteName: policy.siteName,
  });
  return verdict.ok ? null : fail('weak_password', { message: verdict.message });
}
