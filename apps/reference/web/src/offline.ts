/**
 * The app's offline parts: the notes last seen and the notes written offline, in the client's
 * per-user IndexedDB store (`@latchkey/client/offline`); the service worker that keeps the app
 * shell; and whether the page is offline. Nothing here holds a credential: see docs/OFFLINE.md.
 */
import { LatchkeyError, type AuthClient, type PublicUser } from '@latchkey/client';
import type { SessionState } from '@latchkey/client/react';
import {
  createOfflineStore,
  lastOfflineUser,
  type OfflineEvent,
  type OfflineStore,
} from '@latchkey/client/offline';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { Note } from './auth.js';

/** The records the app keeps offline: the notes last seen, keyed by id. */
export type OfflineData = OfflineStore<{ notes: Note }>;

/** The page's one store, created with the client by `openOffline()`. */
export let data: OfflineData;

/** Creates the store over `client`; it follows the client's user from now on. */
export function openOffline(client: AuthClient): OfflineData {
  data = createOfflineStore<{ notes: Note }>(client, { collections: { notes: 'id' } });
  return data;
}

/** Offline at page load: the mode of the last user's offline data, if this browser holds any. */
export const lastMode = async () => (await lastOfflineUser().catch(() => null))?.mode;

/**
 * Registers the service worker, at every load: sign-out's `Clear-Site-Data: "storage"` removes
 * it, and the next load puts it back. (The Vite dev server has no sw.js: registering fails.)
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  // A failed registration only means no offline shell; the app works as before.
  navigator.serviceWorker.register('/sw.js').catch(() => undefined);
}

const subscribeOnline = (notify: () => void) => {
  window.addEventListener('online', notify);
  window.addEventListener('offline', notify);
  return () => {
    window.removeEventListener('online', notify);
    window.removeEventListener('offline', notify);
  };
};

/** Whether the browser says it has a network (`navigator.onLine`), live. */
export const useOnline = () => useSyncExternalStore(subscribeOnline, () => navigator.onLine);

/** Calls `listener` for every event of the offline store while the component is mounted. */
export function useOfflineEvents(listener: (event: OfflineEvent) => void): void {
  useEffect(() => data.subscribe(listener), [listener]);
}

/**
 * The session could not be asked (no network): the user whose offline data this browser holds,
 * to show their notes last seen (`null`: none, so the app is simply unavailable). When the
 * network is back the session is asked again, and the server's answer decides from then on.
 */
export function useOfflineUser({ status, error, refresh }: SessionState): PublicUser | null {
  const offline =
    status === 'error' && error instanceof LatchkeyError && error.code === 'network_error';
  const [user, setUser] = useState<PublicUser | null>(null);
  useEffect(() => {
    if (!offline) return;
    let live = true;
    void data.resume().then((found) => {
      if (live) setUser(found?.user ?? null);
    });
    const retry = () => void refresh();
    window.addEventListener('online', retry);
    return () => {
      live = false;
      window.removeEventListener('online', retry);
    };
  }, [offline, refresh]);
  return offline ? user : null;
}
