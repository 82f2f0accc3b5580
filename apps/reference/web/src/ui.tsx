import type { ReactNode } from 'react';
import type { StrengthVerdict } from './strength.js';

export interface Notice {
  kind: 'error' | 'success' | 'info';
  text: string;
}

/**
 * Two live regions that are always in the page (so screen readers announce changes):
 * errors in an assertive `alert`, everything else in a polite `status`.
 */
export function Messages({ notice }: { notice: Notice | null }) {
  return (
    <>
      <div role="alert" className="live">
        {notice?.kind === 'error' ? <p className="message message-error">{notice.text}</p> : null}
      </div>
      <div role="status" className="live">
        {notice && notice.kind !== 'error' ? (
          <p className={`message message-${notice.kind}`}>{notice.text}</p>
        ) : null}
      </div>
    </>
  );
}

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" className="logo-bg" />
      <circle cx="12" cy="16" r="5" className="logo-line" />
      <path d="M17 16h9m-3 0v4m-3-4v3" className="logo-line" />
    </svg>
  );
}

/** The product's name above a sign-in, recovery or two-step card. */
export function Brand() {
  return (
    <div className="signin-brand">
      <Logo />
      <span>Latchkey</span>
      <span className="brand-sub">reference app</span>
    </div>
  );
}

/** The account's email, as the browser's password manager expects it (`username`). */
export function EmailField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>Email</label>
      <input
        id={id}
        type="email"
        name="email"
        autoComplete="username"
        inputMode="email"
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

export function Card({
  title,
  children,
  actions,
  labelledBy,
}: {
  title?: string;
  children: ReactNode;
  actions?: ReactNode;
  labelledBy?: string;
}) {
  return (
    <section className="card" aria-labelledby={labelledBy}>
      {title || actions ? (
        <div className="card-head">
          {title ? <h2 id={labelledBy}>{title}</h2> : null}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </div>
      ) : null}
      {children}
    </section>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** `12 Mar 2025, 14:03`; the raw string if it is not a date. */
export function formatDate(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : dateTime.format(at);
}

/** `3 minutes ago`, `in 2 hours`, `now`. */
export function formatRelative(iso: string, now = Date.now()): string {
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relative.format(0, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

/** A `<time>` showing relative time, with the full date as its tooltip. */
export function Time({ iso, relativeTo }: { iso: string; relativeTo?: number }) {
  return (
    <time dateTime={iso} title={formatDate(iso)}>
      {relativeTo === undefined ? formatDate(iso) : formatRelative(iso, relativeTo)}
    </time>
  );
}

/**
 * Live feedback under a new password: a meter (for the eye) and one sentence (for everyone),
 * in a polite live region that the field names in its `aria-describedby`. Empty while there
 * is nothing to say. `forNewAccount`: the field also serves sign-in, so say whom it is for.
 */
export function PasswordStrength({
  id,
  verdict,
  forNewAccount = false,
}: {
  id: string;
  verdict: StrengthVerdict | null;
  forNewAccount?: boolean;
}) {
  const lead = forNewAccount ? 'New account: ' : '';
  return (
    <p
      id={id}
      className={`hint strength${verdict ? (verdict.ok ? ' strength-ok' : ' strength-weak') : ''}`}
      aria-live="polite"
      aria-atomic="true"
    >
      {verdict ? (
        <>
          <span className="strength-meter" data-score={verdict.score} aria-hidden="true">
            <span />
            <span />
            <span />
            <span />
          </span>
          <span>
            {lead}
            {verdict.ok ? `${verdict.score >= 4 ? 'Strong' : 'Good'} password.` : verdict.message}
          </span>
        </>
      ) : null}
    </p>
  );
}
