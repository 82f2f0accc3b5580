/**
 * `@latchkey/client/passkeys`: passkeys (WebAuthn) through a Latchkey server, over
 * `@simplewebauthn/browser`. A separate entry: an app that does not import it pays nothing.
 *
 * Sign-in is two steps on purpose: fetch the options when the sign-in view shows
 * (`fetchLoginOptions()`), and call `signInWithPasskey(options)` straight from the click
 * handler. Safari lets `navigator.credentials.get()` run only close to a user gesture; a
 * network round trip in between can cost it. The options (a challenge) are good for 5 minutes
 * and for one attempt: fetch new ones after a failure or a cancel.
 *
 * Server refusals throw `LatchkeyError` (a refused passkey is `invalid_credentials`); the
 * browser's own failures (the person cancelled, a timeout, no authenticator) are thrown as the
 * browser reported them: a `WebAuthnError` from `@simplewebauthn/browser` (re-exported here),
 * whose `name` is usually `NotAllowedError`.
 *
 * Nothing here is kept: no credential, challenge or token reaches storage. The browser's
 * authenticator holds the private key; the server keeps the public key.
 */
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import type { PublicUser } from '@latchkey/wire';
import { LatchkeyError } from './errors.js';
import type { AuthClient } from './types.js';

export { WebAuthnError, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';

/** A passkey as `GET /auth/passkeys` lists it. */
export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface PasskeyOptions {
  /** The server's auth routes, as given to `createAuthClient`. @default '/auth' */
  basePath?: string;
  /** The server's origin and/or path prefix, as given to `createAuthClient`. @default '' */
  baseUrl?: string;
  /** The fetch for the one unauthenticated call (login options). @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface Passkeys {
  /** Whether this browser can use passkeys at all (WebAuthn present). */
  supported(): boolean;
  /** `POST /auth/passkeys/login/options`: a challenge for a discoverable passkey (no email). */
  fetchLoginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Asks the browser for a passkey on `options` and signs in with it (`POST
   * /auth/passkeys/login`), in every tab, like `login`. Call it from the click handler.
   */
  signInWithPasskey(options: PublicKeyCredentialRequestOptionsJSON): Promise<PublicUser>;
  /**
   * Step-up with a passkey: asks the browser for one of the user's passkeys on `options`
   * (from `fetchLoginOptions()`) and sends it to `POST /auth/reauth`.
   */
  reauthenticate(options: PublicKeyCredentialRequestOptionsJSON): Promise<void>;
  /**
   * Creates a passkey on this device for the signed-in user and registers it under `name`
   * (`POST /auth/passkeys/register/options`, then `/auth/passkeys/register`). Needs a recent
   * proof of identity: a `reauth_required` error says to step up first.
   */
  registerPasskey(name?: string): Promise<Passkey>;
  /** `GET /auth/passkeys`. */
  listPasskeys(): Promise<Passkey[]>;
  /** `DELETE /auth/passkeys/:id` (needs a recent proof of identity). */
  removePasskey(id: string): Promise<void>;
}

/** Passkey calls for one Latchkey client (its credential goes with the authenticated calls). */
export function createPasskeys(client: AuthClient, options: PasskeyOptions = {}): Passkeys {
  const base = options.basePath ?? '/auth';
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  const rawFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  /** An authenticated call through the client (CSRF header or bearer token attached). */
  const call = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    const response = await client.fetch(base + path, init);
    if (!response.ok) throw await LatchkeyError.fromResponse(response);
    return response;
  };

  return {
    supported: browserSupportsWebAuthn,
    async fetchLoginOptions() {
      let response: Response;
      try {
        response = await rawFetch(`${baseUrl}${base}/passkeys/login/options`, {
          method: 'POST',
          credentials: 'same-origin',
        });
      } catch (cause) {
        throw new LatchkeyError('network_error', 0, 'Could not reach the server.', { cause });
      }
      if (!response.ok) throw await LatchkeyError.fromResponse(response);
      return (await response.json()) as PublicKeyCredentialRequestOptionsJSON;
    },
    async signInWithPasskey(optionsJSON) {
      const assertion = await startAuthentication({ optionsJSON });
      return client.signInWith('/passkeys/login', assertion);
    },
    async reauthenticate(optionsJSON) {
      const assertion = await startAuthentication({ optionsJSON });
      await call('POST', '/reauth', assertion);
    },
    async registerPasskey(name) {
      const response = await call('POST', '/passkeys/register/options');
      const optionsJSON = (await response.json()) as PublicKeyCredentialCreationOptionsJSON;
      const credential = await startRegistration({ optionsJSON });
      const body = name?.trim() ? { ...credential, name: name.trim() } : credential;
      const created = await call('POST', '/passkeys/register', body);
      const { passkey } = (await created.json()) as { passkey: Omit<Passkey, 'lastUsedAt'> };
      return { ...passkey, lastUsedAt: null };
    },
    async listPasskeys() {
      const response = await call('GET', '/passkeys');
      return ((await response.json()) as { passkeys: Passkey[] }).passkeys;
    },
    async removePasskey(id) {
      await call('DELETE', `/passkeys/${encodeURIComponent(id)}`);
    },
  };
}
