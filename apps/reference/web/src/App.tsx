import type { PublicUser } from '@latchkey/client';
import { useSession } from '@latchkey/client/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { auth, signOutThisBrowser } from './auth.js';
import { describeError, SESSION_ENDED } from './messages.js';
import { useOfflineUser, useOnline } from './offline.js';
import { openedLink } from './link.js';
import { ROUTES, useRoute, type Route } from './route.js';
import { Logo, Messages, type Notice } from './ui.js';
import { Account } from './views/Account.js';
import { Notes } from './views/Notes.js';
import { ReauthDialog } from './views/Reauth.js';
import { ResetPassword, VerifyBanner, VerifyEmail } from './views/Recovery.js';
import { Security } from './views/Security.js';
import { Sessions } from './views/Sessions.js';
import { SignIn } from './views/SignIn.js';

const TITLES: Record<Route, string> = {
  notes: 'Notes',
  sessions: 'Sessions',
  security: 'Security',
  account: 'Account',
};

/**
 * The shell: reads the session once, then shows the sign-in page or the signed-in app.
 * Any call that finds the session gone lands back on the sign-in page with a notice.
 */
export function App() {
  const session = useSession(auth);
  const { status, user, error, refresh } = session;
  // No network: the last user's offline data (their notes last seen), until the server answers.
  const offlineUser = useOfflineUser(session);
  const [notice, setNotice] = useState<Notice | null>(null);
  // Set just before a sign-out the user asked for, so it is not reported as "session ended".
  const signOutReason = useRef<string | null>(null);

  useEffect(() => {
    let previous = auth.getUser();
    return auth.onChange((next) => {
      if (next === null && previous) {
        setNotice({ kind: 'info', text: signOutReason.current ?? SESSION_ENDED });
      } else if (next) {
        setNotice(null);
      }
      signOutReason.current = null;
      previous = next;
    });
  }, []);

  /** Runs a call that signs this device out, with the notice to show afterwards. */
  const signOutWith = useCallback(async (reason: string, call: () => Promise<void>) => {
    signOutReason.current = reason;
    try {
      await call();
    } finally {
      // If the call failed, the user is still signed in: the next sign-out is not ours.
      if (auth.getUser()) signOutReason.current = null;
    }
  }, []);

  // A recovery link's page, signed in or not (link.ts took its token from the fragment).
  if (openedLink?.page === 'reset') return <ResetPassword link={openedLink} />;
  if (openedLink?.page === 'verify') return <VerifyEmail link={openedLink} />;

  if (status === 'loading') {
    return (
      <main className="center" aria-busy="true">
        <p className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          Checking your session…
        </p>
      </main>
    );
  }

  if (status === 'error' && offlineUser) {
    return <SignedIn user={offlineUser} signOutWith={signOutWith} />;
  }
  if (status === 'error') return <Unavailable error={error} onRetry={() => void refresh()} />;

  if (!user) return <SignIn notice={notice} onNotice={setNotice} />;
  return <SignedIn user={user} signOutWith={signOutWith} />;
}

/** The page shown when the server cannot be asked (config, session or refresh failed). */
export function Unavailable({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <main className="center">
      <section className="card narrow">
        <h1>Latchkey is unavailable right now</h1>
        <p role="alert" className="message message-error">
          {describeError(error)}
        </p>
        <button type="button" className="button primary" onClick={onRetry}>
          Try again
        </button>
      </section>
    </main>
  );
}

function SignedIn({
  user,
  signOutWith,
}: {
  user: PublicUser;
  signOutWith: (reason: string, call: () => Promise<void>) => Promise<void>;
}) {
  const route = useRoute();
  const [busy, setBusy] = useState(false);
  const [signOutError, setSignOutError] = useState<Notice | null>(null);
  const main = useRef<HTMLElement>(null);
  const firstRoute = useRef(true);
  // Offline: no network, or the server has not confirmed the user yet (offline data shown).
  const offline = !useOnline() || auth.getUser() === undefined;

  // Move focus to the new view's heading on navigation (not on first load).
  useEffect(() => {
    document.title = `${TITLES[route]} · Latchkey Notes`;
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  const signOut = async () => {
    setBusy(true);
    setSignOutError(null);
    try {
      await signOutWith('You have signed out.', signOutThisBrowser);
    } catch (caught) {
      setSignOutError({ kind: 'error', text: describeError(caught) });
      setBusy(false);
    }
  };

  return (
    <div className="app">
      <a
        className="skip"
        href={`#/${route}`}
        onClick={(event) => {
          event.preventDefault();
          main.current?.querySelector<HTMLElement>('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <p className="brand">
            <Logo />
            <span>Latchkey</span>
            <span className="brand-sub">reference app</span>
          </p>
          <nav aria-label="Main" className="nav">
            {ROUTES.map((name) => (
              <a
                key={name}
                href={`#/${name}`}
                className="nav-link"
                aria-current={route === name ? 'page' : undefined}
              >
                {TITLES[name]}
              </a>
            ))}
          </nav>
          <div className="who">
            {offline ? (
              <span role="status" className="offline-status">
                Offline
              </span>
            ) : null}
            <span className="who-text">
              <span className="who-name">{user.name ?? user.email}</span>
              {user.name ? <span className="who-email">{user.email}</span> : null}
            </span>
            <button
              type="button"
              className="button secondary"
              disabled={busy}
              onClick={() => void signOut()}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" ref={main} className="content">
        <Messages notice={signOutError} />
        <VerifyBanner user={user} />
        {route === 'notes' ? <Notes /> : null}
        {route === 'sessions' ? <Sessions signOutWith={signOutWith} /> : null}
        {route === 'security' ? <Security /> : null}
        {route === 'account' ? <Account user={user} signOutWith={signOutWith} /> : null}
        <ReauthDialog />
      </main>
      <footer className="footer">
        {auth.mode === 'token' ? (
          <p>
            Signed in with a short-lived access token held only in this tab&apos;s memory, renewed
            through an <code>HttpOnly</code>, <code>SameSite=Strict</code> refresh cookie. See{' '}
            <a href="#/security">what page scripts can read</a>.
          </p>
        ) : (
          <p>
            Signed in with a server-side session in an <code>HttpOnly</code>,{' '}
            <code>SameSite=Strict</code> cookie. See{' '}
            <a href="#/security">what page scripts can read</a>.
          </p>
        )}
      </footer>
    </div>
  );
}
