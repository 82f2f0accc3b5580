import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * argon2id at the OWASP Password Storage Cheat Sheet's first recommended setting
 * (m = 19 MiB, t = 2, p = 1). `@node-rs/argon2` runs on the libuv pool, so hashing
 * never blocks the event loop.
 */
const ARGON2ID = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot read)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** False for a wrong password and for a malformed stored hash; never throws on input. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same hashing time as a real verification, for logins whose email has
 * no account, so response timing does not reveal which emails are registered.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('latchkey-timing-equaliser-not-a-real-password');
  await verifyPassword(await dummyHash, password);
  return false;
}

/** argon2id work for one Latchkey instance, at most `concurrency` computations at a time. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  verifyAgainstDummy(password: string): Promise<false>;
  /** Computations waiting for a slot right now. */
  readonly waiting: number;
}

/**
 * Puts the argon2id calls in line so that at most `concurrency` run at once. The
 * libuv pool would otherwise run four (its default size) on however many cores the
 * machine has, and on a small machine a burst of logins then starves the event loop
 * that serves every other request. Waiting costs no CPU and blocks nothing.
 */
export function createPasswordHasher(concurrency: number): PasswordHasher {
  let running = 0;
  const queue: (() => void)[] = [];
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    else running++;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next in line, or free it.
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
  return {
    hash: (password) => limited(() => hashPassword(password)),
    verify: (passwordHash, password) => limited(() => verifyPassword(passwordHash, password)),
    verifyAgainstDummy: (password) => limited(() => verifyAgainstDummy(password)),
    get waiting() {
      return queue.length;
    },
  };
}

// ~49k passwords from breach corpora (zxcvbn-ts common list), lower-cased.
let commonPasswords: Set<string> | undefined;
function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_email';

/**
 * The password policy of API.md (NIST SP 800-63B rev. 4 for a single factor):
 * length bounds counted in characters (code points), no common or breached-list
 * password, and not containing the email's local part. Returns null when it passes.
 */
export function checkPasswordPolicy(
  password: string,
  email: string,
  limits: { minLength: number; maxLength: number },
): PasswordProblem | null {
  // NIST counts Unicode code points, which is exactly what string iteration yields.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const length = [...password].length;
  if (length < limits.minLength) return 'too_short';
  if (length > limits.maxLength) return 'too_long';
  if (isCommonPassword(password)) return 'common';
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 3 && password.toLowerCase().includes(local)) return 'contains_email';
  return null;
}
