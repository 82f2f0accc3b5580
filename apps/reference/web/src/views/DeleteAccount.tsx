import { useId, useState } from 'react';
import { auth } from '../auth.js';
import { describeError, endsSession } from '../messages.js';
import { Messages, type Notice } from '../ui.js';

/**
 * `Delete account`: asks once more in the page, then deletes the account, its notes and every
 * session for good (a recent proof of identity is needed: the re-authentication dialog asks).
 */
export function DeleteAccount({
  signOutWith,
}: {
  signOutWith?: ((reason: string, call: () => Promise<void>) => Promise<void>) | undefined;
}) {
  const id = useId();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const remove = async () => {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    const call = () => auth.deleteAccount();
    try {
      if (signOutWith) await signOutWith('Your account was deleted.', call);
      else await call();
    } catch (caught) {
      if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught) });
      setBusy(false);
    }
  };

  return (
    <section className="card danger" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Delete account</h2>
      <p className="muted">
        Deletes your account, your notes, your sign-in methods and every session, on every device.
        This cannot be undone.
      </p>
      <Messages notice={notice} />
      <div className="actions">
        {asking ? (
          <>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={() => void remove()}
            >
              Delete my account for good
            </button>
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => setAsking(false)}
            >
              Keep my account
            </button>
          </>
        ) : (
          <button type="button" className="button secondary" onClick={() => setAsking(true)}>
            Delete account
          </button>
        )}
      </div>
    </section>
  );
}
