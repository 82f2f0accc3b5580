import { useCallback, useEffect, useId, useState } from 'react';
import { auth } from '../auth.js';
import { findCredentials, readEverything, show, type Snapshot } from '../inspect.js';
import { useOfflineEvents } from '../offline.js';
import { Messages, type Notice } from '../ui.js';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const storageSummary = (value: Record<string, string> | Error) =>
  value instanceof Error ? 'unavailable' : plural(Object.keys(value).length, 'key', 'keys');

const storageText = (value: Record<string, string> | Error) =>
  value instanceof Error ? `Cannot be read: ${value.message}` : show(value);

/**
 * Shows, live, everything a script on this page can read — the reach of an XSS payload —
 * and that the session credential is not in it.
 */
export function Security() {
  const id = useId();
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);

  const refresh = useCallback(async () => {
    setBusy(true);
    try {
      setSnapshot(await readEverything());
      setNotice(null);
    } catch (caught) {
      setNotice({
        kind: 'error',
        text: `Could not read browser storage: ${caught instanceof Error ? caught.message : String(caught)}`,
      });
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    // Another tab writing to storage shows up here at once.
    const onStorage = () => void refresh();
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [refresh]);
  // The offline store opening, queueing, sending or being wiped shows up at once too.
  useOfflineEvents(useCallback(() => void refresh(), [refresh]));

  const findings = snapshot ? findCredentials(snapshot) : [];
  const databases = snapshot?.indexedDB;
  const cached = snapshot?.caches;
  const tokenMode = auth.mode === 'token';

  return (
    <div className="view">
      <div className="view-head">
        <h1 tabIndex={-1}>Security</h1>
        <p className="lede">
          Below is everything that JavaScript running on this page can read from the browser — the
          same reach an injected script (XSS) would have.{' '}
          {tokenMode
            ? 'Neither your access token nor your refresh token is in it.'
            : 'Your session credential is not in it.'}
        </p>
      </div>
      <Messages notice={notice} />
      <section
        className={`card verdict ${findings.length ? 'verdict-bad' : 'verdict-good'}`}
        aria-labelledby={`${id}-verdict`}
        data-testid="security-verdict"
      >
        <h2 id={`${id}-verdict`}>
          {snapshot === null
            ? 'Reading browser storage…'
            : findings.length > 0
              ? `Found ${findings.join(', ')}`
              : tokenMode
                ? 'No access or refresh token is readable by page scripts'
                : 'No session credential is readable by page scripts'}
        </h2>
        {tokenMode ? (
          <ul className="checklist">
            <li>
              The access token is only in memory: a variable inside the client library, in this tab.
              It is never written to Web Storage, IndexedDB, a cookie, a global variable or the
              address — the panels below show that — and it is gone when the tab closes. It expires
              within minutes and is renewed silently.
            </li>
            <li>
              The refresh token is the cookie <code>__Host-Http-refresh</code>:{' '}
              <code>HttpOnly</code>, so it never appears in <code>document.cookie</code> (which is
              why that panel is empty), and host-only, so no other subdomain can set or replace it.
              The server reads it only on its refresh and sign-out routes. It changes on every
              renewal.
            </li>
            <li>
              Other tabs of this app receive a fresh access token in memory (a{' '}
              <code>BroadcastChannel</code>), so only one tab renews at a time; signing out in one
              tab signs out all of them.
            </li>
            <li>No token, password or session id is written to Web Storage or IndexedDB.</li>
            <li>
              IndexedDB holds only non-sensitive offline data (your notes last seen and notes
              written offline), in one database per user, deleted on sign-out. Cache Storage holds
              only the public app shell, never an answer from <code>/auth</code> or{' '}
              <code>/api</code>.
            </li>
          </ul>
        ) : (
          <ul className="checklist">
            <li>
              The session cookie <code>__Host-Http-session</code> is <code>HttpOnly</code>: the
              browser sends it with each request, but it never appears in{' '}
              <code>document.cookie</code>.
            </li>
            <li>
              The anti-forgery token lives only in the client library&apos;s memory. It is useless
              without the cookie and is gone when the tab closes.
            </li>
            <li>No token, password or session id is written to Web Storage or IndexedDB.</li>
            <li>
              IndexedDB holds only non-sensitive offline data (your notes last seen and notes
              written offline), in one database per user, deleted on sign-out. Cache Storage holds
              only the public app shell, never an answer from <code>/auth</code> or{' '}
              <code>/api</code>.
            </li>
          </ul>
        )}
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            disabled={busy}
            onClick={() => void refresh()}
          >
            Refresh
          </button>
          {snapshot ? (
            <p className="muted small">
              Read at{' '}
              <time dateTime={snapshot.readAt.toISOString()}>
                {snapshot.readAt.toLocaleTimeString()}
              </time>
            </p>
          ) : null}
        </div>
      </section>

      <div className="grid">
        <section className="card" aria-labelledby={`${id}-cookie`} data-testid="security-cookie">
          <div className="card-head">
            <h2 id={`${id}-cookie`}>document.cookie</h2>
            <span className="muted small">
              {snapshot ? (snapshot.cookie ? 'cookies visible' : 'empty') : ''}
            </span>
          </div>
          <pre className="dump">{snapshot ? show(snapshot.cookie) : '…'}</pre>
        </section>
        <section
          className="card"
          aria-labelledby={`${id}-local`}
          data-testid="security-localstorage"
        >
          <div className="card-head">
            <h2 id={`${id}-local`}>localStorage</h2>
            <span className="muted small">
              {snapshot ? storageSummary(snapshot.localStorage) : ''}
            </span>
          </div>
          <pre className="dump">{snapshot ? storageText(snapshot.localStorage) : '…'}</pre>
        </section>
        <section
          className="card"
          aria-labelledby={`${id}-session`}
          data-testid="security-sessionstorage"
        >
          <div className="card-head">
            <h2 id={`${id}-session`}>sessionStorage</h2>
            <span className="muted small">
              {snapshot ? storageSummary(snapshot.sessionStorage) : ''}
            </span>
          </div>
          <pre className="dump">{snapshot ? storageText(snapshot.sessionStorage) : '…'}</pre>
        </section>
        <section className="card" aria-labelledby={`${id}-idb`} data-testid="security-indexeddb">
          <div className="card-head">
            <h2 id={`${id}-idb`}>IndexedDB</h2>
            <span className="muted small">
              {databases ? plural(databases.length, 'database', 'databases') : ''}
            </span>
          </div>
          <p className="muted small">
            Non-sensitive offline data: notes last seen and notes waiting to be sent. No credential.
          </p>
          <pre className="dump">
            {snapshot === null
              ? '…'
              : databases === null || databases === undefined
                ? 'This browser cannot list IndexedDB databases.'
                : show(databases)}
          </pre>
        </section>
        <section className="card" aria-labelledby={`${id}-caches`} data-testid="security-caches">
          <div className="card-head">
            <h2 id={`${id}-caches`}>Cache Storage</h2>
            <span className="muted small">
              {cached ? plural(cached.length, 'cache', 'caches') : ''}
            </span>
          </div>
          <p className="muted small">
            Non-sensitive: the public app shell the service worker keeps for offline use.
          </p>
          <pre className="dump">
            {snapshot === null
              ? '…'
              : cached === null || cached === undefined
                ? 'This browser has no Cache Storage here.'
                : show(cached)}
          </pre>
        </section>
      </div>
    </div>
  );
}
