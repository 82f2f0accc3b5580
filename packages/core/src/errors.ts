import type { ErrorBody, ErrorCode } from './wire.js';

/**
 * The one table from error code to HTTP status and the safe, generic message the
 * client sees. Messages carry no per-request data, so identical failures give
 * byte-identical bodies (no oracle, nothing to leak).
 */
const ERRORS: Record<ErrorCode, { status: number; message: string }> = {
  invalid_request: { status: 400, message: 'The request is malformed.' },
  unauthenticated: { status: 401, message: 'Sign in to continue.' },
  invalid_credentials: { status: 401, message: 'Email or password is incorrect.' },
  session_expired: { status: 401, message: 'Your session has expired. Sign in again.' },
  token_reused: {
    status: 401,
    message: 'This sign-in was ended because a refresh token was reused. Sign in again.',
  },
  reauth_required: {
    status: 401,
    message: 'Confirm it is you to continue: enter your password, a code or use a passkey.',
  },
  invalid_token: {
    status: 400,
    message: 'This link or code is invalid, already used or expired.',
  },
  csrf_failed: { status: 403, message: 'The request failed the cross-site request check.' },
  not_found: { status: 404, message: 'Not found.' },
  email_taken: { status: 409, message: 'An account with this email already exists.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'The request body must be JSON.' },
  weak_password: {
    status: 422,
    message:
      'The password does not meet the policy: use a longer passphrase that is not a common password and does not contain your email.',
  },
  rate_limited: { status: 429, message: 'Too many attempts. Try again later.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  store_unavailable: {
    status: 503,
    message: 'The service is temporarily unavailable. Try again shortly.',
  },
  overloaded: { status: 503, message: 'The service is busy. Try again in a moment.' },
  upstream_unavailable: {
    status: 502,
    message: 'A service this request relies on did not answer. Try again shortly.',
  },
};

/**
 * An expected failure with a stable code. `message` is always the safe public text;
 * `detail` (never sent to the client) and `cause` are for logs and debugging and
 * must never hold a secret.
 */
export class LatchkeyError extends Error {
  override readonly name = 'LatchkeyError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    options: { message?: string; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(options.message ?? ERRORS[code].message, { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = options.headers ?? {};
  }
}

/** Creates the error for a code. The one place error values are made. */
export function fail(
  code: ErrorCode,
  options?: { message?: string; cause?: unknown; headers?: Record<string, string> },
): LatchkeyError {
  return new LatchkeyError(code, options);
}

/** The JSON body for an error: code and safe message only. */
export function errorBody(error: LatchkeyError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}
