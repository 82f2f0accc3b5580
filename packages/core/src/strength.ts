import type { ZxcvbnFactory, ZxcvbnResult } from '@zxcvbn-ts/core';

/**
 * The password-strength rule of API.md, shared by the server (the authority: a weak
 * password is `422 weak_password`) and the browser (live feedback as the user
 * types). No `node:` imports: the reference SPA bundles this module.
 */

export interface StrengthOptions {
  /** Fewest characters (Unicode code points). @default 15 */
  minLength?: number;
  /** Most characters. @default 128 */
  maxLength?: number;
  /** Lowest accepted zxcvbn score, 0..4. @default 3 */
  minScore?: number;
  /** The account's email: its local part may not appear in the password, and its words score low. */
  email?: string | null;
  /** The user's name, whose words score low. */
  name?: string | null;
  /** The site's name, whose words score low. @default 'Latchkey' */
  siteName?: string;
}

export type StrengthProblem = 'too_short' | 'too_long' | 'contains_email' | 'weak';

export type StrengthVerdict =
  | { ok: true; score: number }
  | { ok: false; problem: StrengthProblem; score: number; message: string };

let factory: Promise<ZxcvbnFactory> | undefined;

/**
 * Built on first use: indexing the dictionaries takes most of a second. At its default
 * of 100, zxcvbn's l33t matcher spends seconds on some 15–70 character inputs (a
 * denial of service on a server); 10 keeps every input measured under ~150 ms and
 * still catches the usual substitutions. Only the first 64 characters are examined:
 * anything longer that is not a repeat is strong anyway, and repeats show early.
 */
function estimator(): Promise<ZxcvbnFactory> {
  // Imported on first use: the language packs decompress their dictionaries at import
  // (~250 ms), which every process that loads the core would otherwise pay at start.
  factory ??= Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]).then(
    ([{ ZxcvbnFactory }, common, english]) =>
      new ZxcvbnFactory({
        translations: english.translations,
        graphs: common.adjacencyGraphs,
        dictionary: { ...common.dictionary, ...english.dictionary },
        l33tMaxSubstitutions: 10,
        maxLength: 64,
      }),
  );
  return factory;
}

/** The words in the user inputs, lower-cased, at least 3 characters. */
function wordsOf(inputs: readonly (string | null | undefined)[]): string[] {
  // `ada.lovelace@example.org` → also `ada`, `lovelace`, `example`: a password built
  // from any of them should score low.
  const words = new Set<string>();
  for (const input of inputs) {
    if (!input) continue;
    const lower = input.toLowerCase();
    words.add(lower);
    // `Ada Lovelace` → also `adalovelace`, the way people run words together.
    words.add(lower.replace(/[^\p{L}\p{N}]+/gu, ''));
    for (const part of lower.split(/[^\p{L}\p{N}]+/u)) if (part.length >= 3) words.add(part);
  }
  return [...words];
}

/** One plain sentence saying why a password is weak, from zxcvbn's own feedback. */
function explain(result: ZxcvbnResult): string {
  const { warning, suggestions } = result.feedback;
  const parts = [warning, ...suggestions].filter((text): text is string => Boolean(text));
  const why = parts.length > 0 ? parts.join(' ') : 'It would be easy to guess.';
  return `This password is too easy to guess. ${why}`.trim();
}

/**
 * Judges a password: length bounds counted in characters (NIST SP 800-63B), then an
 * estimated strength of at least `minScore` (zxcvbn: repeats, sequences, keyboard
 * walks, common and breached passwords with padding or l33t, words from the inputs).
 */
export async function assessPassword(
  password: string,
  options: StrengthOptions = {},
): Promise<StrengthVerdict> {
  const minLength = options.minLength ?? 15;
  const maxLength = options.maxLength ?? 128;
  const minScore = options.minScore ?? 3;
  // NIST counts Unicode code points, which is exactly what string iteration yields.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const length = [...password].length;
  if (length < minLength) {
    return {
      ok: false,
      problem: 'too_short',
      score: 0,
      message: `Use at least ${minLength} characters: a few unrelated words make a good passphrase.`,
    };
  }
  if (length > maxLength) {
    return {
      ok: false,
      problem: 'too_long',
      score: 0,
      message: `Use at most ${maxLength} characters.`,
    };
  }
  const local = options.email?.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 3 && password.toLowerCase().includes(local)) {
    return {
      ok: false,
      problem: 'contains_email',
      score: 0,
      message: 'Do not use your email address in the password.',
    };
  }
  const inputs = [options.siteName ?? 'Latchkey', options.name, options.email];
  const result = (await estimator()).check(password, wordsOf(inputs));
  if (result.score < minScore) {
    return { ok: false, problem: 'weak', score: result.score, message: explain(result) };
  }
  return { ok: true, score: result.score };
}
