import { LatchkeyError, type ErrorCode } from '@latchkey/client';

/** Where an error happened, so the message can say what to do about it. */
export type ErrorContext =
  | 'signin'
  | 'register'
  | 'password'
  | 'notes'
  | 'sessions'
  | 'general'
  /** The second step of a sign-in, or confirming an authenticator app. */
  | 'mfa'
  /** The re-authentication dialog. */
  | 'reauth';

export const SESSION_ENDED = 'Your session has ended — please sign in again.';

export const PASSWORD_POLICY =
  'Use 15 to 128 characters. Common or breached passwords are refused, and so is a password ' +
  'that contains the part of your email before the @. A long phrase of ordinary words works well.';

type Messages = Partial<Record<ErrorContext, string>> & { general: string };

/** One entry per code: the compiler refuses a code without a message. */
const MESSAGES: Record<ErrorCode, Messages> = {
  invalid_request: {
    general: 'The request was not valid. Check the form and try again.',
    signin: 'Enter a valid email address and your password.',
    register: 'Enter a valid email address and a password (the name is optional).',
    password: 'Fill in both your current password and a new password.',
    notes: 'A note needs between 1 and 10,000 characters.',
  },
  unauthenticated: {
    general: SESSION_ENDED,
    mfa: 'That sign-in took too long or was already finished. Enter your password again.',
  },
  session_expired: { general: SESSION_ENDED },
  token_reused: {
    general: 'For your safety this session was ended on every device. Please sign in again.',
  },
  reauth_required: {
    general:
      'Confirm it is you first: enter your password, an authentication code or use a passkey.',
  },
  invalid_token: {
    general: 'That link or code is invalid, already used or expired.',
    mfa: 'That code is not right or was already used. Wait for the next code from your app.',
    reauth: 'That code is not right or was already used. Wait for the next code from your app.',
  },
  mfa_required: {
    general: 'Enter the authentication code from your app to finish signing in.',
  },
  invalid_credentials: {
    general: 'Email or password is incorrect.',
    reauth: 'That password is not right.',
    password: 'Your current password is incorrect.',
  },
  csrf_failed: {
    general:
      'The request was refused by the cross-site request check. Reload the page and try again.',
  },
  not_found: {
    general: 'That no longer exists.',
    notes: 'That note no longer exists — it may have been deleted on another device.',
    sessions: 'That session has already ended.',
  },
  email_taken: {
    general: 'An account with this email already exists. Use “Sign in” instead.',
  },
  payload_too_large: {
    general: 'That is too large to send.',
    notes: 'That note is too long: a note can have at most 10,000 characters.',
  },
  unsupported_media_type: { general: 'The request was not sent as JSON. Reload the page.' },
  weak_password: {
    general: `That password is not allowed. ${PASSWORD_POLICY}`,
  },
  rate_limited: {
    general: 'Too many attempts. Please wait before trying again.',
  },
  internal_error: { general: 'Something went wrong on our side. Please try again.' },
  overloaded: {
    general: 'The service is busy right now. Please try again in a moment.',
  },
  store_unavailable: {
    general:
      'The session service is unavailable right now, so nobody can be signed in. Please try again in a moment.',
  },
  network_error: {
    general: 'Cannot reach the server. Check your connection and try again.',
  },
  upstream_unavailable: {
    general: 'The identity provider or the API behind this app did not answer. Try again shortly.',
  },
};

/** The message `LatchkeyError.fromResponse` makes up when the answer had none. */
const NO_REASON = /^(Unexpected response \(\d+\)\.)?$/;

/** A sentence a person can act on, for any error a call may throw. */
export function describeError(error: unknown, context: ErrorContext = 'general'): string {
  if (!(error instanceof LatchkeyError)) return MESSAGES.internal_error.general;
  if (error.code === 'rate_limited' && error.retryAfter !== undefined) {
    return `Too many attempts. Try again in ${formatWait(error.retryAfter)}.`;
  }
  // The server's own reason, in plain words ("Repeated characters like "aaa" are easy to
  // guess…"): more use than the general policy, which the form shows anyway.
  if (error.code === 'weak_password' && !NO_REASON.test(error.message)) return error.message;
  const entry = (MESSAGES as Partial<Record<string, Messages>>)[error.code];
  return entry?.[context] ?? entry?.general ?? MESSAGES.internal_error.general;
}

/** `42 seconds`, or `900 seconds (15 minutes)` when minutes read better. */
export function formatWait(seconds: number): string {
  const s = `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (seconds < 120) return s;
  const minutes = Math.ceil(seconds / 60);
  return `${s} (about ${minutes} minutes)`;
}

/** True when the error means the user is no longer signed in. */
export function endsSession(error: unknown): boolean {
  return (
    error instanceof LatchkeyError &&
    (error.code === 'unauthenticated' ||
      error.code === 'session_expired' ||
      error.code === 'token_reused')
  );
}
