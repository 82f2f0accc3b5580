import type { PublicKeyCredentialRequestOptionsJSON } from '@latchkey/client/passkeys';
import { useEffect, useRef, useState } from 'react';
import { describeError } from '../messages.js';
import { describePasskeyError, passkeys } from '../passkeys.js';
import type { Notice } from '../ui.js';

/**
 * `Sign in with a passkey`: no email to type, the browser offers the passkeys it holds for
 * this site. The options (a single-use challenge) are fetched when the view shows, so the
 * click goes straight to the browser's prompt (Safari keeps the user gesture only that way),
 * and fetched again after every attempt.
 */
export function PasskeySignIn({
  disabled,
  onNotice,
}: {
  disabled: boolean;
  onNotice: (notice: Notice | null) => void;
}) {
  const options = useRef<Promise<PublicKeyCredentialRequestOptionsJSON> | null>(null);
  const [busy, setBusy] = useState(false);
  const supported = passkeys().supported();

  const prefetch = () => {
    const next = passkeys().fetchLoginOptions();
    // A failure here is reported on click, when the options are needed.
    next.catch(() => undefined);
    options.current = next;
  };

  useEffect(() => {
    if (supported) prefetch();
  }, [supported]);

  if (!supported) return null;

  const signIn = async () => {
    if (busy) return;
    setBusy(true);
    onNotice(null);
    try {
      const ready = await (options.current ?? passkeys().fetchLoginOptions());
      options.current = null;
      await passkeys().signInWithPasskey(ready);
      // Signed in: the app shell swaps this page out.
    } catch (caught) {
      onNotice({ kind: 'error', text: describePasskeyError(caught, (e) => describeError(e)) });
      prefetch();
      setBusy(false);
    }
  };

  return (
    <div className="passkey-signin">
      <p className="divider" aria-hidden="true">
        or
      </p>
      <button
        type="button"
        className="button secondary passkey-button"
        disabled={disabled || busy}
        onClick={() => void signIn()}
      >
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        Sign in with a passkey
      </button>
    </div>
  );
}
