import { useId, useState, type ReactNode, type SubmitEvent } from 'react';
import { LatchkeyError, type PublicUser } from '@latchkey/client';
import { auth } from '../auth.js';
import type { OpenedLink } from '../link.js';
import { describeError, PASSWORD_POLICY } from '../messages.js';
import { usePasswordStrength } from '../strength.js';
import { Brand, EmailField, Messages, PasswordStrength, type Notice } from '../ui.js';

/*
 * Account recovery pages: the "Forgot password?" form (on the sign-in page), the pages
 * the mailed links open (`/reset`, `/verify`; the token was taken from the fragment by
 * link.ts before anything rendered), and the banner asking a signed-in user to verify
 * their address.
 */

const EXPIRED_RESET =
  'This reset link is invalid, already used or expired (links work for 30 minutes, once, and only the newest one). Ask for a new one from the sign-in page.';
const EXPIRED_VERIFY =
  'This verification link is invalid, already used or expired. Sign in and press “Send link” for a new one.';
const NO_TOKEN =
  'This link is incomplete. Open the link from the email again, or copy all of it into the address bar.';

function Page({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <main className="center">
      <section className="card narrow" aria-labelledby={id}>
        <Brand />
        <h1 id={id}>{title}</h1>
        {children}
      </section>
    </main>
  );
}

/** "Forgot password?": asks for a link; says "check your email" whether or not the account exists. */
export function ForgotPassword({ email: initial, onBack }: { email: string; onBack: () => void }) {
  const id = useId();
  const [email, setEmail] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [sent, setSent] = useState(false);

  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.forgotPassword(email.trim());
      setSent(true);
    } catch (caught) {
      setNotice({ kind: 'error', text: describeError(caught, 'signin') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <section className="card signin-card narrow" aria-labelledby={`${id}-title`}>
        <Brand />
        <h1 id={`${id}-title`}>Forgot your password?</h1>
        {sent ? (
          <div role="status">
            <p className="message message-success">Check your email</p>
            <p>
              If an account exists for <strong>{email.trim()}</strong>, we sent it a link to choose
              a new password. The link works once, for 30 minutes; only the newest link works.
            </p>
          </div>
        ) : (
          <>
            <Messages notice={notice} />
            <form className="form" noValidate aria-busy={busy} onSubmit={(e) => void submit(e)}>
              <EmailField id={`${id}-email`} value={email} onChange={setEmail} />
              <div className="actions">
                <button type="submit" className="button primary" disabled={busy}>
                  {busy ? <span className="spinner" aria-hidden="true" /> : null}
                  Send reset link
                </button>
              </div>
            </form>
          </>
        )}
        <p>
          <button type="button" className="button secondary" onClick={onBack}>
            Back to sign in
          </button>
        </p>
      </section>
    </main>
  );
}

/** A TOTP code goes as `code`, anything else (a recovery code) as `recoveryCode`. */
function secondFactor(value: string): { code: string } | { recoveryCode: string } | object {
  const trimmed = value.replace(/\s/g, '');
  if (!trimmed) return {};
  return /^\d{6}$/.test(trimmed) ? { code: trimmed } : { recoveryCode: value.trim() };
}

/** `/reset`: a new password (with the strength feedback), and a code when the account has one. */
export function ResetPassword({ link }: { link: OpenedLink }) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [codeNeeded, setCodeNeeded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [dead, setDead] = useState(link.token === null);
  const [notice, setNotice] = useState<Notice | null>(
    link.token === null ? { kind: 'error', text: NO_TOKEN } : null,
  );
  const strength = usePasswordStrength(password, '', '');

  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || !link.token) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.resetPassword({
        token: link.token,
        newPassword: password,
        ...(codeNeeded ? secondFactor(code) : {}),
      });
      setDone(true);
    } catch (caught) {
      const code = caught instanceof LatchkeyError ? caught.code : null;
      if (code === 'invalid_request' && !codeNeeded) {
        // The account has a second factor: the link still works, with a code.
        setCodeNeeded(true);
        setNotice({ kind: 'info', text: (caught as LatchkeyError).message });
      } else if (code === 'invalid_token' && codeNeeded) {
        setNotice({
          kind: 'error',
          text: 'That code was not accepted (or the link has expired meanwhile). Try a new code.',
        });
      } else if (code === 'invalid_token') {
        setDead(true);
        setNotice({ kind: 'error', text: EXPIRED_RESET });
      } else {
        setNotice({ kind: 'error', text: describeError(caught, 'password') });
      }
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <Page title="Password changed">
        <div role="status">
          <p className="message message-success">Your password has been changed.</p>
        </div>
        <p>Every device that was signed in to your account has been signed out.</p>
        <p>
          <a className="button primary" href="/">
            Sign in with your new password
          </a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Reset your password">
      <Messages notice={notice} />
      {dead ? (
        <p>
          <a className="button secondary" href="/">
            Back to sign in
          </a>
        </p>
      ) : (
        <form className="form" noValidate aria-busy={busy} onSubmit={(e) => void submit(e)}>
          <div className="field">
            <label htmlFor={`${id}-password`}>New password</label>
            <input
              id={`${id}-password`}
              type="password"
              name="new-password"
              autoComplete="new-password"
              aria-describedby={`${id}-hint ${id}-strength`}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <p id={`${id}-hint`} className="hint">
              {PASSWORD_POLICY}
            </p>
            <PasswordStrength id={`${id}-strength`} verdict={strength} />
          </div>
          {codeNeeded ? (
            <div className="field">
              <label htmlFor={`${id}-code`}>Authentication or recovery code</label>
              <input
                id={`${id}-code`}
                type="text"
                name="one-time-code"
                autoComplete="one-time-code"
                spellCheck={false}
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </div>
          ) : null}
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              {busy ? <span className="spinner" aria-hidden="true" /> : null}
              Set new password
            </button>
          </div>
        </form>
      )}
    </Page>
  );
}

/**
 * `/verify`: one button, so a link scanner that runs the page's script still spends
 * nothing; a person presses it.
 */
export function VerifyEmail({ link }: { link: OpenedLink }) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(
    link.token === null ? { kind: 'error', text: NO_TOKEN } : null,
  );

  const verify = async () => {
    if (busy || !link.token) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.verifyEmail(link.token);
      setDone(true);
    } catch (caught) {
      const expired = caught instanceof LatchkeyError && caught.code === 'invalid_token';
      setNotice({ kind: 'error', text: expired ? EXPIRED_VERIFY : describeError(caught) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={done ? 'Email verified' : 'Verify your email'}>
      {done ? (
        <div role="status">
          <p className="message message-success">Your email address is verified.</p>
        </div>
      ) : (
        <>
          <Messages notice={notice} />
          <p>Press the button to confirm that this email address is yours.</p>
          <div className="actions">
            <button
              type="button"
              className="button primary"
              disabled={busy || !link.token}
              onClick={() => void verify()}
            >
              {busy ? <span className="spinner" aria-hidden="true" /> : null}
              Verify email
            </button>
          </div>
        </>
      )}
      <p>
        <a className="button secondary" href="/">
          Continue to the app
        </a>
      </p>
    </Page>
  );
}

/** Shown to a signed-in user whose address is not verified yet. */
export function VerifyBanner({ user }: { user: PublicUser }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  if (user.emailVerified) return null;

  const send = async () => {
    setBusy(true);
    setNotice(null);
    try {
      await auth.sendVerification();
      setNotice({
        kind: 'success',
        text: `Check your email: we sent a new link to ${user.email}. It works for 24 hours.`,
      });
    } catch (caught) {
      setNotice({ kind: 'error', text: describeError(caught) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card verify-banner" aria-label="Email verification">
      <p>
        Please verify your email address, <strong>{user.email}</strong>: open the link we sent you.
      </p>
      <Messages notice={notice} />
      <button
        type="button"
        className="button secondary"
        disabled={busy}
        onClick={() => void send()}
      >
        Send link
      </button>
    </section>
  );
}
