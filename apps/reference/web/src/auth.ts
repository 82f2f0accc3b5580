import { createAuthClient, LatchkeyError, type AuthClient, type AuthMode } from '@latchkey/client';
import { lastMode, openOffline } from './offline.js';
import { askReauth } from './views/Reauth.js';

/**
 * The page's one client, created by `connect()` before the app renders, in the mode the
 * server runs in. Same origin: the session or refresh cookie travels, and in token mode the
 * access token stays inside the client (this module never sees it).
 */
export let auth: AuthClient;

/**
 * The OpenID provider's name when the server signs in through one (`/config.json`), for
 * the "Sign in with…" button and to end the provider's session too at sign-out; null
 * without one, or when the page started offline.
 */
export let provider: string | null = null;

/**
 * Reads the server's mode from `/config.json` and creates `auth` in it, with the offline store
 * over it. Offline, the mode is the one the last user's offline data was kept in, if any.
 */
export async function connect(): Promise<AuthClient> {
  let response: Response;
  try {
    response = await fetch('/config.json', { cache: 'no-store', credentials: 'omit' });
  } catch (cause) {
    const mode = await lastMode();
    if (mode) return create(mode);
    throw new LatchkeyError('network_error', 0, 'Could not reach the server.', { cause });
  }
  if (!response.ok) throw await LatchkeyError.fromResponse(response);
  const { mode, oidc } = (await response.json().catch(() => ({}))) as {
    mode?: unknown;
    oidc?: { name?: unknown };
  };
  if (mode !== 'session' && mode !== 'token') {
    throw new LatchkeyError('internal_error', response.status, 'Unknown server mode.');
  }
  provider = typeof oidc?.name === 'string' ? oidc.name : null;
  return create(mode satisfies AuthMode);
}

/**
 * Signs this browser out: every tab and, with a provider, the provider's session too
 * when the app's session came from it (`/auth/oidc/logout`, then its end-session page),
 * so on a shared computer the next "Sign in with…" does not walk into this account.
 */
export async function signOutThisBrowser(): Promise<void> {
  if (provider === null) return auth.logout();
  const next = await auth.logoutWithProvider();
  // The app's own page (a password session): stay, and show that the user signed out.
  if (new URL(next, location.href).origin !== location.origin) location.assign(next);
}

function create(mode: AuthMode): AuthClient {
  // A sensitive action answered `reauth_required`: the dialog asks, then it is sent again.
  auth = createAuthClient({ mode, onReauthRequired: () => askReauth() });
  openOffline(auth);
  return auth;
}

/**
 * The notes API through `auth.fetch`, which adds the credential the mode needs (the CSRF
 * header on unsafe requests, or the bearer token). Throws `LatchkeyError` on any failure;
 * `204` resolves to `undefined`.
 */
export async function api<T = undefined>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await auth.fetch(path, init);
  if (!response.ok) throw await LatchkeyError.fromResponse(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export interface Note {
  id: string;
  text: string;
  createdAt: string;
}
