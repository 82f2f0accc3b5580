import { LatchkeyError } from '@latchkey/client';
import type { Passkey } from '@latchkey/client/passkeys';
import { useEffect, useId, useState, type SubmitEvent } from 'react';
import { auth } from '../auth.js';
import { describeError, endsSession } from '../messages.js';
import { describePasskeyError, passkeys } from '../passkeys.js';
import { Messages, Time, type Notice } from '../ui.js';

/** An action that needs a recent proof of identity, waiting for the person to give one. */
type Pending = { run: () => Promise<void> };

/**
 * The Account view's passkeys: the list (name, created, last used) with `Remove`, and
 * `Add a passkey`. Adding and removing need a recent proof of identity: when the server
 * answers `reauth_required`, the person confirms with their password (or a passkey) and the
 * action runs again.
 */
export function Passkeys() {
  const id = useId();
  const [list, setList] = useState<Passkey[] | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [password, setPassword] = useState('');

  const load = async () => {
    try {
      setList(await passkeys().listPasskeys());
    } catch (caught) {
      if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught) });
    }
  };

  useEffect(() => {
    void load();
  }, []);

  /** Runs `action`; a `reauth_required` answer asks for a proof first, then runs it again. */
  const guarded = async (action: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await action();
    } catch (caught) {
      if (caught instanceof LatchkeyError && caught.code === 'reauth_required') {
        setPending({ run: action });
        setNotice({ kind: 'info', text: 'Confirm it is you to continue.' });
      } else if (!endsSession(caught)) {
        setNotice({ kind: 'error', text: describePasskeyError(caught, (e) => describeError(e)) });
      }
    } finally {
      setBusy(false);
    }
  };

  const add = () =>
    guarded(async () => {
      const created = await passkeys().registerPasskey(name.trim() || undefined);
      setName('');
      setNotice({ kind: 'success', text: `Passkey “${created.name}” added.` });
      await load();
      // The user's factors changed (`mfa` now lists `passkey`).
      await auth.session();
    });

  const remove = (passkey: Passkey) =>
    guarded(async () => {
      await passkeys().removePasskey(passkey.id);
      setNotice({ kind: 'success', text: `Passkey “${passkey.name}” removed.` });
      await load();
      await auth.session();
    });

  /** The proof for a pending action: the password, or one of the user's passkeys. */
  const confirm = async (proof: 'password' | 'passkey') => {
    if (!pending || busy) return;
    setBusy(true);
    setNotice(null);
    try {
      if (proof === 'password') {
        const response = await auth.fetch('/auth/reauth', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ password }),
        });
        if (!response.ok) throw await LatchkeyError.fromResponse(response);
      } else {
        await passkeys().reauthenticate(await passkeys().fetchLoginOptions());
      }
      setPassword('');
      setPending(null);
    } catch (caught) {
      if (!endsSession(caught)) {
        setNotice({
          kind: 'error',
          text:
            caught instanceof LatchkeyError && caught.code === 'invalid_credentials'
              ? 'That was not accepted. Try again.'
              : describePasskeyError(caught, (e) => describeError(e)),
        });
      }
      setBusy(false);
      return;
    }
    setBusy(false);
    await guarded(pending.run);
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Passkeys</h2>
      <p className="muted">
        A passkey signs you in with this device&apos;s screen lock or a security key — no password
        and no code. The server keeps only its public key.
      </p>
      <Messages notice={notice} />
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="muted">No passkeys yet.</p>
      ) : (
        <ul className="sessions" aria-label="Your passkeys">
          {list.map((passkey) => (
            <li key={passkey.id} className="session">
              <div className="session-main">
                <p className="session-device">{passkey.name}</p>
                <p className="muted small">
                  Created <Time iso={passkey.createdAt} /> · Last used{' '}
                  {passkey.lastUsedAt ? <Time iso={passkey.lastUsedAt} /> : 'never'}
                </p>
              </div>
              <button
                type="button"
                className="button danger small"
                aria-label={`Remove ${passkey.name}`}
                disabled={busy}
                onClick={() => void remove(passkey)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {pending ? (
        <form
          className="form narrow-form"
          noValidate
          aria-busy={busy}
          onSubmit={(event: SubmitEvent) => {
            event.preventDefault();
            void confirm('password');
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-confirm`}>Password to confirm</label>
            <input
              id={`${id}-confirm`}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              Confirm
            </button>
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => void confirm('passkey')}
            >
              Confirm with a passkey
            </button>
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => {
                setPending(null);
                setNotice(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <form
          className="form narrow-form"
          noValidate
          aria-busy={busy}
          onSubmit={(event: SubmitEvent) => {
            event.preventDefault();
            void add();
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-name`}>Passkey name</label>
            <input
              id={`${id}-name`}
              type="text"
              maxLength={64}
              placeholder="e.g. Work laptop"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </div>
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              Add a passkey
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
