import { LatchkeyError, type PublicUser, type SessionInfo } from '@latchkey/client';
import { useEffect, useId, useState, type SubmitEvent } from 'react';
import { auth } from '../auth.js';
import { describeError, endsSession, PASSWORD_POLICY } from '../messages.js';
import { usePasswordStrength } from '../strength.js';
import { Messages, PasswordStrength, Time, type Notice } from '../ui.js';
import { DeleteAccount } from './DeleteAccount.js';
import { Passkeys } from './Passkeys.js';
import { TwoFactor } from './TwoFactor.js';

/**
 * The profile, this session's lifetime, and the password change form (with live feedback
 * on the new password; the server decides, and its `422` reason is shown as the error).
 */
export function Account({
  user,
  signOutWith,
}: {
  user: PublicUser;
  /** Runs a call that signs this device out, with the notice to show afterwards. */
  signOutWith?: (reason: string, call: () => Promise<void>) => Promise<void>;
}) {
  const id = useId();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  // The server refused the new password (until it is edited).
  const [refused, setRefused] = useState(false);
  const strength = usePasswordStrength(next, user.email, user.name);

  const loadSession = async () => {
    try {
      setSession((await auth.session())?.session ?? null);
    } catch {
      // The lifetime panel is informational; the rest of the page still works.
    }
  };

  useEffect(() => {
    void loadSession();
  }, []);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.changePassword({ currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setNotice({
        kind: 'success',
        text: 'Password changed. Every other device was signed out; this one stays signed in.',
      });
      await loadSession();
    } catch (caught) {
      if (!endsSession(caught)) {
        setNotice({ kind: 'error', text: describeError(caught, 'password') });
        setRefused(caught instanceof LatchkeyError && caught.code === 'weak_password');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="view">
      <div className="view-head">
        <h1 tabIndex={-1}>Account</h1>
        <p className="lede">Your profile, this session and your password.</p>
      </div>
      <div className="grid">
        <section className="card" aria-labelledby={`${id}-profile`}>
          <h2 id={`${id}-profile`}>Profile</h2>
          <dl className="facts">
            <div>
              <dt>Name</dt>
              <dd>{user.name ?? <span className="muted">not set</span>}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd>{user.email}</dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>
                <Time iso={user.createdAt} />
              </dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby={`${id}-session`}>
          <h2 id={`${id}-session`}>This session</h2>
          {session ? (
            <dl className="facts">
              <div>
                <dt>Signed in</dt>
                <dd>
                  <Time iso={session.createdAt} />
                </dd>
              </div>
              <div>
                <dt>Ends if idle until</dt>
                <dd>
                  <Time iso={session.idleExpiresAt} />
                </dd>
              </div>
              <div>
                <dt>Ends at the latest</dt>
                <dd>
                  <Time iso={session.expiresAt} />
                </dd>
              </div>
            </dl>
          ) : (
            <p className="muted">Loading…</p>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby={`${id}-password`}>
        <h2 id={`${id}-password`}>Change password</h2>
        <p className="muted">
          Changing your password signs out every other device and gives this one a new session.
        </p>
        <Messages notice={notice} />
        <form
          className="form narrow-form"
          noValidate
          aria-busy={busy}
          onSubmit={(event) => void submit(event)}
        >
          <input
            type="email"
            name="username"
            autoComplete="username"
            value={user.email}
            readOnly
            hidden
          />
          <div className="field">
            <label htmlFor={`${id}-current`}>Current password</label>
            <input
              id={`${id}-current`}
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-new`}>New password</label>
            <input
              id={`${id}-new`}
              type="password"
              autoComplete="new-password"
              aria-describedby={`${id}-new-hint ${id}-new-strength`}
              aria-invalid={refused || undefined}
              value={next}
              onChange={(e) => {
                setNext(e.target.value);
                setRefused(false);
              }}
            />
            <p id={`${id}-new-hint`} className="hint">
              {PASSWORD_POLICY}
            </p>
            <PasswordStrength id={`${id}-new-strength`} verdict={strength} />
          </div>
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              Change password
            </button>
          </div>
        </form>
      </section>
      <Passkeys />
      <TwoFactor user={user} />
      <DeleteAccount signOutWith={signOutWith} />
    </div>
  );
}
