import { useId, useState, type SubmitEvent } from 'react';
import { LatchkeyError, SECOND_FACTOR_FRAGMENT } from '@latchkey/client';
import { auth } from '../auth.js';
import { describeError, PASSWORD_POLICY } from '../messages.js';
import { usePasswordStrength } from '../strength.js';
import { Brand, EmailField, Messages, PasswordStrength, type Notice } from '../ui.js';
import { ForgotPassword } from './Recovery.js';
import { PasskeySignIn } from './PasskeySignIn.js';
import { SecondFactor } from './SecondFactor.js';
import { SsoSignIn } from './SsoSignIn.js';

type Intent = 'signin' | 'register';

/**
 * Whether the page was opened as the second step of a provider sign-in (the server
 * moved the browser to `#second-factor`, with the pending cookie set). The marker is
 * taken off the address, so a reload starts over.
 */
function takeSecondFactorStep(): boolean {
  if (window.location.hash !== `#${SECOND_FACTOR_FRAGMENT}`) return false;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return true;
}

/**
 * One form for both ways in: `Sign in` (the default on Enter) and `Create account`,
 * which also sends the optional name. Under the password, live feedback on whether it
 * would do for a new account (the server decides; its `422` reason is shown as the error).
 */
export function SignIn({
  notice,
  onNotice,
}: {
  notice: Notice | null;
  onNotice: (notice: Notice | null) => void;
}) {
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState<Intent | null>(null);
  // The server refused this password for a new account (until it is edited).
  const [refused, setRefused] = useState(false);
  const strength = usePasswordStrength(password, email, name.trim());
  const [forgot, setForgot] = useState(false);
  // The password (or the identity provider) was right; the account's second factor is
  // still to come.
  const [secondStep, setSecondStep] = useState(takeSecondFactorStep);

  const submit = async (event: SubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    const { submitter } = event.nativeEvent;
    const intent: Intent = submitter?.getAttribute('value') === 'register' ? 'register' : 'signin';
    setBusy(intent);
    onNotice(null);
    try {
      if (intent === 'register') {
        const trimmed = name.trim();
        await auth.register(trimmed ? { email, password, name: trimmed } : { email, password });
      } else {
        await auth.login({ email, password });
      }
      // Signed in: the app shell swaps this page out.
    } catch (caught) {
      if (caught instanceof LatchkeyError && caught.code === 'mfa_required') {
        setSecondStep(true);
        setBusy(null);
        return;
      }
      onNotice({ kind: 'error', text: describeError(caught, intent) });
      setRefused(caught instanceof LatchkeyError && caught.code === 'weak_password');
      setBusy(null);
    }
  };

  if (forgot) return <ForgotPassword email={email} onBack={() => setForgot(false)} />;

  if (secondStep) {
    return (
      <main className="signin">
        <div className="signin-grid">
          <section className="card signin-card" aria-labelledby={`${id}-title`}>
            <Brand />
            <h1 id={`${id}-title`}>Sign in</h1>
            <Messages notice={notice} />
            <SecondFactor
              onBack={(next) => {
                setSecondStep(false);
                onNotice(next);
              }}
            />
          </section>
        </div>
      </main>
    );
  }

  return (
    <main className="signin">
      <div className="signin-grid">
        <section className="card signin-card" aria-labelledby={`${id}-title`}>
          <Brand />
          <h1 id={`${id}-title`}>Sign in or create an account</h1>
          <Messages notice={notice} />
          <form
            className="form"
            noValidate
            aria-busy={busy !== null}
            onSubmit={(event) => void submit(event)}
          >
            <EmailField id={`${id}-email`} value={email} onChange={setEmail} />
            <div className="field">
              <label htmlFor={`${id}-password`}>Password</label>
              <input
                id={`${id}-password`}
                type="password"
                name="password"
                autoComplete="current-password"
                aria-describedby={`${id}-password-hint ${id}-password-strength`}
                aria-invalid={refused || undefined}
                value={password}
                onChange={(e) => {
                  setPassword(e.target.value);
                  setRefused(false);
                }}
              />
              <p id={`${id}-password-hint`} className="hint">
                New accounts: {PASSWORD_POLICY}
              </p>
              <PasswordStrength id={`${id}-password-strength`} verdict={strength} forNewAccount />
            </div>
            <div className="field">
              <label htmlFor={`${id}-name`}>Name</label>
              <input
                id={`${id}-name`}
                type="text"
                name="name"
                autoComplete="name"
                aria-describedby={`${id}-name-hint`}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
              <p id={`${id}-name-hint`} className="hint">
                Optional — only used when you create an account.
              </p>
            </div>
            <div className="actions">
              <button
                type="submit"
                value="signin"
                className="button primary"
                disabled={busy !== null}
              >
                {busy === 'signin' ? <span className="spinner" aria-hidden="true" /> : null}
                Sign in
              </button>
              <button
                type="submit"
                value="register"
                className="button secondary"
                disabled={busy !== null}
              >
                {busy === 'register' ? <span className="spinner" aria-hidden="true" /> : null}
                Create account
              </button>
            </div>
          </form>
          <p className="forgot">
            <button type="button" className="button secondary" onClick={() => setForgot(true)}>
              Forgot password?
            </button>
          </p>
          <PasskeySignIn disabled={busy !== null} onNotice={onNotice} />
          <SsoSignIn />
        </section>
        <aside className="signin-aside" aria-label="About this app">
          <h2>Where your login lives</h2>
          {auth.mode === 'token' ? (
            <ul className="checklist">
              <li>
                Requests carry a short-lived access token that lives only in this tab&apos;s memory
                — never in storage, a cookie or the address bar.
              </li>
              <li>
                It is renewed with a random refresh token in an <code>HttpOnly</code>,{' '}
                <code>Secure</code>, <code>SameSite=Strict</code>, host-only cookie that page
                scripts cannot read and the server accepts only on its refresh and sign-out routes.
              </li>
              <li>
                Nothing about your login is kept in localStorage, sessionStorage or IndexedDB.
              </li>
              <li>
                Other sites cannot act for you: browsers never attach the access token on their own,
                and the refresh route refuses cross-site requests.
              </li>
              <li>Sign out, or revoke any device, and the refresh token ends on the server.</li>
            </ul>
          ) : (
            <ul className="checklist">
              <li>
                Your session is a random secret in an <code>HttpOnly</code>, <code>Secure</code>,{' '}
                <code>SameSite=Strict</code> cookie — page scripts, including injected ones, cannot
                read it.
              </li>
              <li>
                Nothing about your login is kept in localStorage, sessionStorage or IndexedDB.
              </li>
              <li>
                Every change is checked against a session-bound anti-forgery token, so other sites
                cannot act for you.
              </li>
              <li>Sign out, or revoke any device, and the session ends on the server.</li>
            </ul>
          )}
        </aside>
      </div>
    </main>
  );
}
