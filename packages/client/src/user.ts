/**
 * Who is signed in, as this tab last heard: the user, the public id of the session, and the
 * listeners that hear of every change.
 */
import type { PublicUser } from '@latchkey/wire';

export interface Who {
  /** `undefined` until the first answer says either way; `null`: signed out. */
  readonly user: PublicUser | null | undefined;
  /** The current session's public id (never its secret), to tell whether a revoked one is ours. */
  sessionId: string | undefined;
  /**
   * Records the user; listeners hear of it when the user changed (another id, or the same
   * user with other details, e.g. a second factor added), or `always`.
   */
  set(next: PublicUser | null, always?: boolean): void;
  /** Adds a listener; returns the unsubscribe. Unbound-safe. */
  onChange: (listener: (user: PublicUser | null) => void) => () => void;
}

export function createWho(): Who {
  const listeners = new Set<(user: PublicUser | null) => void>();
  let user: PublicUser | null | undefined;
  return {
    get user() {
      return user;
    },
    sessionId: undefined,
    set(next, always = false) {
      if (!always && user !== undefined && JSON.stringify(user) === JSON.stringify(next)) return;
      user = next;
      for (const listener of [...listeners]) {
        try {
          listener(next);
        } catch (error) {
          // A broken listener must not break the call that changed the user.
          setTimeout(() => {
            throw error;
          });
        }
      }
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
