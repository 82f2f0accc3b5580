import { z } from 'zod';
import { fail } from '../errors.js';

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is
// proven by sending mail, not by a regex.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

const email = z
  .string()
  .max(254)
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => EMAIL.test(value), 'must be an email address');

// Long enough for any passphrase the policy accepts; anything longer is junk input
// (400), while 129..4096 characters is a policy failure (422).
const password = z.string().min(1).max(4096);

export const registerBody = z.object({
  email,
  password,
  name: z.string().trim().min(1).max(100).nullish(),
});

export const loginBody = z.object({ email, password });

export const changePasswordBody = z.object({ currentPassword: password, newPassword: password });

// Recovery: a token of any other shape is answered `invalid_token` by the operation.
const linkToken = z.string().max(512);
export const forgotPasswordBody = z.object({ email });
export const resetPasswordBody = z.object({
  token: linkToken,
  newPassword: password,
  code: z.string().max(64).optional(),
  recoveryCode: z.string().max(64).optional(),
});
export const verifyEmailBody = z.object({ token: linkToken });

/** Validates a parsed body; a failure is `400 invalid_request` naming the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'body';
  throw fail('invalid_request', { message: `Invalid or missing field: ${field}.` });
}
