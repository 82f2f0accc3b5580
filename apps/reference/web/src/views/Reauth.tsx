import { useEffect, useId, useRef, useState, type SubmitEvent } from 'react';
import { auth } from '../auth.js';
import { describeError } from '../messages.js';
import { Messages, type Notice } from '../ui.js';

type Answer = (proven: boolean) => void;

/** The mounted dialog's opener; null while no dialog is in the page. */
let opener: ((answer: Answer) => void) | null = null;

/**
 * The client's `onReauthRequired`: a sensitive action (deleting the account, adding or
 * removing a factor, signing out everywhere) was answered `reauth_required`. Shows the
 * dialog and resolves `true` once the person proved who they are (the client then sends
 * the action again), `false` if they cancel.
 */
export function askReauth(): Promise<boolean> {
  const open = opener;
  if (!open) return Promise.resolve(false);
  return new Promise((resolve) => open(resolve));
}

/** The re-authentication dialog: the password, or a code from the authenticator app. */
export function ReauthDialog() {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  // Everyone waiting for this proof (two actions may ask at once).
  const [waiting, setWaiting] = useState<Answer[]>([]);
  const [method, setMethod] = useState<'password' | 'code'>('password');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const hasTotp = auth.getUser()?.mfa.includes('totp') ?? false;

  useEffect(() => {
    opener = (answer) => setWaiting((list) => [...list, answer]);
    return () => {
      opener = null;
    };
  }, []);

  const open = waiting.length > 0;
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const finish = (proven: boolean) => {
    for (const answer of waiting) answer(proven);
    setWaiting([]);
    setValue('');
    setNotice(null);
    setMethod('password');
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await auth.reauth(method === 'password' ? { password: value } : { code: value.trim() });
      finish(true);
    } catch (caught) {
      setNotice({ kind: 'error', text: describeError(caught, 'reauth') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="card reauth-dialog"
      aria-labelledby={`${id}-title`}
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      {open ? (
        <>
          <h2 id={`${id}-title`}>Confirm it is you</h2>
          <p className="muted">
            This change needs a fresh proof of identity. It counts for the next 5 minutes.
          </p>
          <Messages notice={notice} />
          <form className="form" noValidate aria-busy={busy} onSubmit={(e) => void submit(e)}>
            {method === 'password' ? (
              <div className="field">
                <label htmlFor={`${id}-password`}>Password</label>
                <input
                  id={`${id}-password`}
                  type="password"
                  autoComplete="current-password"
                  value={value}
                  onChange={(e) => setValue(e.target.value)}
                />
              </div>
            ) : (
              <div className="field">
                <label htmlFor={`${id}-code`}>Authentication code</label>
                <input
                  id={`${id}-code`}
                  type="text"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  maxLength={10}
                  value={value}
                  onChange={(e) => setValue(e.target.value)}
                />
              </div>
            )}
            <div className="actions">
              <button type="submit" className="button primary" disabled={busy}>
                Confirm
              </button>
              <button
                type="button"
                className="button secondary"
                disabled={busy}
                onClick={() => finish(false)}
              >
                Cancel
              </button>
            </div>
          </form>
          {hasTotp ? (
            <p>
              <button
                type="button"
                className="button secondary"
                onClick={() => {
                  setMethod(method === 'password' ? 'code' : 'password');
                  setValue('');
                  setNotice(null);
                }}
              >
                {method === 'password' ? 'Use an authentication code' : 'Use your password'}
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </dialog>
  );
}
