import { LatchkeyError } from '@latchkey/client';
import { useId, useState, type SubmitEvent } from 'react';
import { auth } from '../auth.js';
import { describeError } from '../messages.js';
import { Messages, type Notice } from '../ui.js';

/**
 * The second step of a sign-in for an account with an authenticator app: the password was
 * right, the server holds a 5-minute pending sign-in (an HttpOnly cookie), and a code from
 * the app — or one recovery code — finishes it. If the pending sign-in is gone (too slow,
 * or used), back to the first step.
 */
export function SecondFactor({ onBack }: { onBack: (notice: Notice | null) => void }) {
  const id = useId();
  const [recovery, setRecovery] = useState(false);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.loginMfa(recovery ? { recoveryCode: value.trim() } : { code: value.trim() });
      // Signed in: the app shell swaps this page out.
    } catch (caught) {
      setBusy(false);
      if (caught instanceof LatchkeyError && caught.code === 'unauthenticated') {
        onBack({ kind: 'error', text: describeError(caught, 'mfa') });
        return;
      }
      setNotice({ kind: 'error', text: describeError(caught, 'mfa') });
    }
  };

  const field = recovery ? 'Recovery code' : 'Authentication code';
  return (
    <>
      <h2 id={`${id}-title`}>Two-step verification</h2>
      <p className="muted">
        {recovery
          ? 'Enter one of the recovery codes you saved when you set up your authenticator app. Each works once.'
          : 'Enter the 6-digit code your authenticator app shows for this account.'}
      </p>
      <Messages notice={notice} />
      <form
        className="form"
        noValidate
        aria-busy={busy}
        aria-labelledby={`${id}-title`}
        onSubmit={(event) => void submit(event)}
      >
        <div className="field">
          <label htmlFor={`${id}-code`}>{field}</label>
          <input
            key={field}
            id={`${id}-code`}
            type="text"
            name={recovery ? 'recovery-code' : 'one-time-code'}
            inputMode={recovery ? 'text' : 'numeric'}
            autoComplete={recovery ? 'off' : 'one-time-code'}
            spellCheck={false}
            autoFocus
            maxLength={recovery ? 40 : 10}
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </div>
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden="true" /> : null}
            Verify
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={busy}
            onClick={() => onBack(null)}
          >
            Start over
          </button>
        </div>
      </form>
      <p className="forgot">
        <a
          href="#"
          onClick={(event) => {
            event.preventDefault();
            setRecovery(!recovery);
            setValue('');
            setNotice(null);
          }}
        >
          {recovery ? 'Use a code from your authenticator app' : 'Use a recovery code'}
        </a>
      </p>
    </>
  );
}
