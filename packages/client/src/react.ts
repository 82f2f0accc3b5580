/**
 * React binding for the Latchkey client: one hook that follows the signed-in user.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { LatchkeyError, type AuthClient, type PublicUser } from './index.js';

export interface SessionState {
  /** `loading` until the first answer (`start()`: refresh or session); `error` if none came. */
  status: 'loading' | 'signed-in' | 'signed-out' | 'error';
  user: PublicUser | null | undefined;
  /** Why the session could not be read (`network_error`, `store_unavailable`, …). */
  error: LatchkeyError | null;
  /** Asks the server again (after an `error`, say). */
  refresh: () => Promise<void>;
}

/**
 * Follows `client`'s user, in either mode: finds out who is signed in once on mount
 * (`client.start()`), then re-renders on every login, logout or ended session the client
 * sees, including those of other tabs.
 */
export function useSession(client: AuthClient): SessionState {
  const user = useSyncExternalStore(client.onChange, client.getUser, client.getUser);
  const [error, setError] = useState<LatchkeyError | null>(null);

  const refresh = useCallback(async () => {
    setError(null);
    try {
      await client.start();
    } catch (caught) {
      setError(
        caught instanceof LatchkeyError
          ? caught
          : new LatchkeyError('internal_error', 0, 'Could not read the session.', {
              cause: caught,
            }),
      );
    }
  }, [client]);

  useEffect(() => {
    if (client.getUser() === undefined) void refresh();
  }, [client, refresh]);

  const status =
    user === undefined ? (error ? 'error' : 'loading') : user ? 'signed-in' : 'signed-out';
  return { status, user, error, refresh };
}
