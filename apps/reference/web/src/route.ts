import { useSyncExternalStore } from 'react';

export const ROUTES = ['notes', 'sessions', 'security', 'account'] as const;
export type Route = (typeof ROUTES)[number];

const isRoute = (value: string | undefined): value is Route =>
  (ROUTES as readonly (string | undefined)[]).includes(value);

function current(): Route {
  const name = /^#\/([a-z]+)/.exec(window.location.hash)?.[1];
  return isRoute(name) ? name : 'notes';
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The view named by the hash (`#/sessions`); `notes` for anything else. */
export function useRoute(): Route {
  return useSyncExternalStore(subscribe, current, () => 'notes');
}
