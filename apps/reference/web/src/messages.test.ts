import { LatchkeyError, type ErrorCode } from '@latchkey/client';
import { describe, expect, it } from 'vitest';
import { describeError, endsSession, formatWait, SESSION_ENDED } from './messages.js';

const error = (code: ErrorCode, retryAfter?: number) =>
  new LatchkeyError(code, 400, 'server text', { retryAfter });

describe('describeError', () => {
  it('says how long to wait when rate limited, in the seconds the server gave', () => {
    expect(describeError(error('rate_limited', 42), 'signin')).toBe(
      'Too many attempts. Try again in 42 seconds.',
    );
    expect(describeError(error('rate_limited', 900))).toContain('900 seconds (about 15 minutes)');
  });

  it('shows the server’s reason on weak_password', () => {
    const reason =
      'This password is too easy to guess. Repeated characters like "aaa" are easy to guess.';
    const refused = new LatchkeyError('weak_password', 422, reason);
    expect(describeError(refused, 'register')).toBe(reason);
    expect(describeError(refused, 'password')).toBe(reason);
  });

  it('explains the password policy on weak_password when the server gave no reason', () => {
    for (const message of ['Unexpected response (422).', '']) {
      const text = describeError(new LatchkeyError('weak_password', 422, message), 'register');
      expect(text).toContain('15 to 128 characters');
      expect(text).toMatch(/common|breached/);
      expect(text).toContain('before the @');
    }
  });

  it('uses the context: a wrong current password is not a wrong sign-in', () => {
    expect(describeError(error('invalid_credentials'), 'signin')).toBe(
      'Email or password is incorrect.',
    );
    expect(describeError(error('invalid_credentials'), 'password')).toBe(
      'Your current password is incorrect.',
    );
    expect(describeError(error('invalid_request'), 'notes')).toContain('10,000');
  });

  it('has its own sentence for every failure the sign-in page can meet', () => {
    // (weak_password shows the server's own reason: tested above.)
    const codes: ErrorCode[] = [
      'invalid_credentials',
      'email_taken',
      'rate_limited',
      'invalid_request',
      'csrf_failed',
      'store_unavailable',
      'network_error',
    ];
    const texts = codes.map((code) => describeError(error(code), 'register'));
    expect(new Set(texts).size).toBe(codes.length);
    for (const text of texts) expect(text).not.toBe('server text');
  });

  it('reports an ended session the same way for every code that means it', () => {
    expect(describeError(error('unauthenticated'))).toBe(SESSION_ENDED);
    expect(describeError(error('session_expired'))).toBe(SESSION_ENDED);
    expect(endsSession(error('session_expired'))).toBe(true);
    expect(endsSession(error('csrf_failed'))).toBe(false);
    expect(endsSession(new Error('x'))).toBe(false);
  });

  it('never shows a raw exception to the user', () => {
    expect(describeError(new TypeError('secret internals'))).not.toContain('secret');
  });
});

describe('formatWait', () => {
  it('uses seconds, singular when one, with minutes added when long', () => {
    expect(formatWait(1)).toBe('1 second');
    expect(formatWait(59)).toBe('59 seconds');
    expect(formatWait(121)).toBe('121 seconds (about 3 minutes)');
  });
});
