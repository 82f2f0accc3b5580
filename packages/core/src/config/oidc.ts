import type { JWK } from 'jose';
import type { Duration } from '../duration.js';
import { ConfigError, duration, integer } from './checks.js';

/**
 * Backend for frontend: sign-in through an OpenID Connect provider on another domain.
 * Latchkey runs the authorization code flow (PKCE S256, `state`, `nonce`, RFC 9207
 * `iss`) as a confidential client, keeps the provider's tokens on the server
 * (encrypted at rest) and gives the browser only its own session cookie.
 */
export interface OidcOptions {
  /** The provider's issuer URL (discovery at `/.well-known/openid-configuration`). https, or http on a loopback address for development. */
  issuer: string;
  clientId: string;
  /** `client_secret_basic`. Give this or `privateKey`. */
  clientSecret?: string;
  /** `private_key_jwt`: the client's private signing JWK (with `alg`, and `kid` if the provider has several keys). */
  privateKey?: JWK;
  /** The provider's name on the sign-in button (`Sign in with <name>`). @default 'SSO' */
  name?: string;
  /** Scopes asked for; must include `openid`. @default ['openid', 'email', 'profile', 'offline_access'] */
  scopes?: readonly string[];
  /** Where the provider sends the browser after sign-out. @default the public URL + `/` */
  postLogoutRedirectUrl?: string;
  /** How long before the provider's access token expires it is refreshed (at most half its lifetime). @default '30s' */
  refreshSkew?: Duration;
  /** The API that `bff.relay` forwards to with the provider's access token. @default none (no relay) */
  upstream?: UpstreamOptions;
}

export interface UpstreamOptions {
  /** Base URL of the upstream API: `<path>/x` is relayed to `<url>/x`. */
  url: string;
  /** The path the relay is mounted at. @default '/bff' */
  path?: string;
  /** Largest request body relayed, in bytes. @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** Longest wait for the upstream's answer headers. @default '30s' */
  timeout?: Duration;
}

/** The resolved OIDC client settings (`LatchkeyConfig.oidc`). */
export interface OidcConfig {
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientAuth:
    | { readonly method: 'client_secret_basic'; readonly secret: string }
    | {
        readonly method: 'private_key_jwt';
        readonly jwk: JWK;
      };
  readonly name: string;
  readonly scope: string;
  /** `<public URL><basePath>/oidc/callback`. */
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  /** http on a loopback address: openid-client's `allowInsecureRequests`, for development only. */
  readonly insecureLoopback: boolean;
  readonly refreshSkewMs: number;
  readonly upstream: {
    readonly url: URL;
    readonly path: string;
    readonly bodyLimit: number;
    readonly timeoutMs: number;
  } | null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An absolute URL: https, or http on a loopback address (or anywhere, when `httpAnywhere`). */
function url(key: string, value: unknown, httpAnywhere: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(value));
  } catch {
    throw new ConfigError(`${key}: expected an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && (httpAnywhere || LOOPBACK.has(parsed.hostname))) return parsed;
  throw new ConfigError(
    `${key}: expected an https URL (http only on localhost, 127.0.0.1 or [::1]), got ${JSON.stringify(value)}`,
  );
}

/** Validates the `oidc` option once, at start-up. Throws `ConfigError` naming the key. */
export function resolveOidc(
  options: OidcOptions | undefined,
  publicOrigin: string,
  basePath: string,
): OidcConfig | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('oidc: expected an object');
  }
  const issuer = url('oidc.issuer', options.issuer, false);
  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    throw new ConfigError('oidc.clientId: required');
  }
  const hasSecret = options.clientSecret !== undefined;
  const hasKey = options.privateKey !== undefined;
  if (hasSecret === hasKey) {
    throw new ConfigError('oidc.clientSecret: give exactly one of clientSecret or privateKey');
  }
  let clientAuth: OidcConfig['clientAuth'];
  if (hasSecret) {
    if (typeof options.clientSecret !== 'string' || options.clientSecret.length < 16) {
      throw new ConfigError('oidc.clientSecret: expected a string of at least 16 characters');
    }
    clientAuth = { method: 'client_secret_basic', secret: options.clientSecret };
  } else {
    const jwk = options.privateKey;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string' || !('d' in jwk)) {
      throw new ConfigError('oidc.privateKey: expected a private JWK (with "d")');
    }
    if (jwk.kty === 'oct') throw new ConfigError('oidc.privateKey: must be an asymmetric key');
    clientAuth = { method: 'private_key_jwt', jwk: Object.freeze({ ...jwk }) };
  }
  const name = options.name ?? 'SSO';
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64) {
    throw new ConfigError('oidc.name: expected 1 to 64 characters');
  }
  const scopes = options.scopes ?? ['openid', 'email', 'profile', 'offline_access'];
  if (
    !Array.isArray(scopes) ||
    !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))
  ) {
    throw new ConfigError('oidc.scopes: expected a list of scope tokens');
  }
  if (!scopes.includes('openid')) throw new ConfigError('oidc.scopes: must include "openid"');
  const postLogout =
    options.postLogoutRedirectUrl === undefined
      ? `${publicOrigin}/`
      : url('oidc.postLogoutRedirectUrl', options.postLogoutRedirectUrl, true).href;

  let upstream: OidcConfig['upstream'] = null;
  if (options.upstream !== undefined) {
    const upstreamUrl = url('oidc.upstream.url', options.upstream.url, true);
    if (upstreamUrl.search || upstreamUrl.hash) {
      throw new ConfigError('oidc.upstream.url: must not have a query or fragment');
    }
    const path = options.upstream.path ?? '/bff';
    if (!/^(\/[A-Za-z0-9_-]+)+$/.test(path) || path === basePath) {
      throw new ConfigError(
        `oidc.upstream.path: expected a path like /bff, got ${JSON.stringify(path)}`,
      );
    }
    upstream = Object.freeze({
      url: upstreamUrl,
      path,
      bodyLimit: integer(
        'oidc.upstream.bodyLimit',
        options.upstream.bodyLimit,
        1_048_576,
        0,
        104_857_600,
      ),
      timeoutMs: duration('oidc.upstream.timeout', options.upstream.timeout, '30s'),
    });
  }

  return Object.freeze({
    issuer,
    clientId: options.clientId,
    clientAuth: Object.freeze(clientAuth),
    name,
    scope: scopes.join(' '),
    redirectUri: `${publicOrigin}${basePath}/oidc/callback`,
    postLogoutRedirectUri: postLogout,
    insecureLoopback: issuer.protocol === 'http:',
    refreshSkewMs: duration('oidc.refreshSkew', options.refreshSkew, '30s'),
    upstream,
  });
}
