import type { SessionListItem } from '@latchkey/client';
import { useCallback, useEffect, useId, useState } from 'react';
import { auth } from '../auth.js';
import { describeDevice } from '../device.js';
import { describeError, endsSession } from '../messages.js';
import { Messages, Time, type Notice } from '../ui.js';

/** Every session of the account, this device first, each revocable. */
export function Sessions({
  signOutWith,
}: {
  signOutWith: (reason: string, call: () => Promise<void>) => Promise<void>;
}) {
  const id = useId();
  const [sessions, setSessions] = useState<SessionListItem[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const fail = useCallback((caught: unknown) => {
    if (!endsSession(caught)) setNotice({ kind: 'error', text: describeError(caught, 'sessions') });
  }, []);

  const load = useCallback(async () => {
    try {
      const { sessions: list } = await auth.sessions();
      setSessions([...list].sort((a, b) => Number(b.current) - Number(a.current)));
      setNow(Date.now());
    } catch (caught) {
      fail(caught);
    }
  }, [fail]);

  useEffect(() => {
    void load();
  }, [load]);

  const run = async (action: () => Promise<void>, done: string) => {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      await action();
      setNotice({ kind: 'success', text: done });
      await load();
    } catch (caught) {
      fail(caught);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (session: SessionListItem) => {
    if (!session.current) {
      await run(
        () => auth.revokeSession(session.id),
        'Session revoked. That device is signed out.',
      );
      return;
    }
    // Revoking this device's own session signs it out: the shell shows the sign-in page.
    setBusy(true);
    setNotice(null);
    try {
      await signOutWith(
        'You revoked the session on this device, so you are signed out.',
        async () => {
          await auth.revokeSession(session.id);
          // The client knows its own session id; if it did not, ask (the answer is 401).
          if (auth.getUser()) await auth.session();
        },
      );
    } catch (caught) {
      fail(caught);
      setBusy(false);
    }
  };

  const others = sessions?.filter((s) => !s.current).length ?? 0;

  return (
    <div className="view">
      <div className="view-head">
        <h1 tabIndex={-1}>Sessions</h1>
        <p className="lede">
          Every device signed in to your account. Revoke any you do not recognise — it is signed out
          on its next request.
        </p>
      </div>
      <Messages notice={notice} />
      <section className="card" aria-labelledby={`${id}-title`}>
        <div className="card-head">
          <h2 id={`${id}-title`}>Active sessions{sessions ? ` (${sessions.length})` : ''}</h2>
          <div className="card-actions">
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => void run(load, 'Session list refreshed.')}
            >
              Refresh
            </button>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={() =>
                void run(
                  () => auth.revokeOtherSessions(),
                  others === 1
                    ? 'Signed out 1 other session.'
                    : `Signed out all other sessions${others ? ` (${others})` : ''}.`,
                )
              }
            >
              Sign out other sessions
            </button>
          </div>
        </div>
        {sessions === null ? (
          <p className="muted">Loading sessions…</p>
        ) : (
          <ul className="sessions">
            {sessions.map((session) => {
              const deviceId = `${id}-${session.id}`;
              return (
                <li key={session.id} className={`session${session.current ? ' current' : ''}`}>
                  <div className="session-main">
                    <p className="session-device" id={deviceId}>
                      {describeDevice(session.userAgent)}
                      {session.current ? <span className="badge">This device</span> : null}
                    </p>
                    <dl className="session-facts">
                      <div>
                        <dt>IP address</dt>
                        <dd>{session.ip ?? 'unknown'}</dd>
                      </div>
                      <div>
                        <dt>Signed in</dt>
                        <dd>
                          <Time iso={session.createdAt} />
                        </dd>
                      </div>
                      <div>
                        <dt>Last seen</dt>
                        <dd>
                          <Time iso={session.lastSeenAt} relativeTo={now} />
                        </dd>
                      </div>
                      <div>
                        <dt>Expires</dt>
                        <dd>
                          <Time iso={session.expiresAt} />
                        </dd>
                      </div>
                    </dl>
                  </div>
                  <button
                    type="button"
                    className="button danger small"
                    disabled={busy}
                    aria-describedby={deviceId}
                    onClick={() => void revoke(session)}
                  >
                    Revoke
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}
