/**
 * Errors: every failed call throws a `LatchkeyError` with a stable `code`; this module also reads
 * an error answer's code without consuming its body, and says which `401`s end the session.
 */
import type { ErrorCode as WireErrorCode } from '@latchkey/wire';

/**
 * Every code a `LatchkeyError` can carry: the server's codes plus `network_error`, and
 * `mfa_required` (`login()` when the account has a second factor: finish with `loginMfa()`).
 */
export type ErrorCode = WireErrorCode | 'network_error' | 'mfa_required';

/** Any failed call: `code` is stable (switch on it), `message` is for people. */
export class LatchkeyError extends Error {
  override readonly name = 'LatchkeyError';
  readonly code: ErrorCode;
  /** HTTP status; `0` when no answer arrived (`network_error`). */
  readonly status: number;
  /** Seconds to wait, from `Retry-After` (set on `rate_limited`). */
  declare readonly retryAfter?: number;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { retryAfter?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  /** Reads a failed response's `{ error: { code, message } }` body into an error. */
  static async fromResponse(response: Response): Promise<LatchkeyError> {
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: unknown; message?: unknown };
    } | null;
    const code = body?.error?.code;
    const message = body?.error?.message;
    return new LatchkeyError(
      typeof code === 'string' ? (code as ErrorCode) : 'internal_error',
      response.status,
      typeof message === 'string' ? message : `Unexpected response (${response.status}).`,
      { retryAfter: parseRetryAfter(response.headers.get('Retry-After')) },
    );
  }
}

/** `Retry-After` is delta-seconds or an HTTP date; either becomes whole seconds. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The error code of an answer, read from a copy so the caller can still read the body. */
export const errorCode = async (response: Response): Promise<string | undefined> =>
  (
    (await response
      .clone()
      .json()
      .catch(() => null)) as { error?: { code?: string } } | null
  )?.error?.code;

const ENDED = new Set<string | undefined>(['unauthenticated', 'session_expired', 'token_reused']);

/** Whether an answer says the session is over (not, say, that a password was wrong). */
export const sessionOver = (status: number, code: string | undefined): boolean =>
  status === 401 && ENDED.has(code);
