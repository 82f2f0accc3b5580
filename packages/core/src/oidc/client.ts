import { importJWK } from 'jose';
import * as oidc from 'openid-client';
import type { OidcConfig } from '../config/oidc.js';

/** The provider's answer to a code or refresh grant, as Latchkey keeps it. */
export interface ProviderTokens {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly idToken: string | null;
  /** Epoch ms; null when the provider did not say (`expires_in` missing). */
  readonly expiresAt: number | null;
  /** When to refresh: `refreshSkew` before expiry, at most halfway through its life. */
  readonly refreshAt: number | null;
}

/**
 * How a call to the provider failed: `refused` is the provider's own answer (an OAuth
 * error, a failed check of its response); `unreachable` is the network, a timeout or a
 * 5xx. Callers map the first to "sign in again" and the second to `502`.
 */
export function providerFailure(error: unknown): 'refused' | 'unreachable' {
  if (error instanceof oidc.ResponseBodyError) {
    return error.status >= 500 ? 'unreachable' : 'refused';
  }
  if (error instanceof oidc.AuthorizationResponseError) return 'refused';
  if (error instanceof TypeError) return 'unreachable'; // fetch failed
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'unreachable';
  }
  const code = (error as { code?: unknown } | null)?.code;
  // oauth4webapi: a non-JSON or unexpected-status answer is the provider misbehaving.
  if (code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    return 'unreachable';
  }
  return 'refused';
}

/**
 * openid-client over the configured provider. Discovery runs on first use and is kept;
 * a failed discovery is retried on the next call (the provider may start after us).
 */
export interface OidcClient {
  readonly config: OidcConfig;
  configuration(): Promise<oidc.Configuration>;
  /** The authorization URL with PKCE (S256), state and nonce. */
  authorizationUrl(checks: { verifier: string; state: string; nonce: string }): Promise<URL>;
  /** Validates the callback (state, RFC 9207 `iss`, PKCE, ID token, nonce) and redeems the code. */
  redeem(
    query: string,
    checks: { verifier: string; state: string; nonce: string },
  ): Promise<{ tokens: ProviderTokens; claims: oidc.IDToken; userinfo: Record<string, unknown> }>;
  refresh(refreshToken: string, previous: ProviderTokens): Promise<ProviderTokens>;
  /** The end-session URL, or null when the provider has none. */
  endSessionUrl(idToken: string | null): Promise<string | null>;
  /** Best effort: tells the provider a refresh token is no longer needed. */
  revoke(token: string): Promise<void>;
}

const TIMEOUT_S = 10;

export function createOidcClient(config: OidcConfig, now: () => number): OidcClient {
  let discovered: Promise<oidc.Configuration> | null = null;

  const discover = async () => {
    const auth =
      config.clientAuth.method === 'client_secret_basic'
        ? oidc.ClientSecretBasic(config.clientAuth.secret)
        : oidc.PrivateKeyJwt({
            key: (await importJWK(
              config.clientAuth.jwk,
              config.clientAuth.jwk.alg,
            )) as oidc.CryptoKey,
            ...(config.clientAuth.jwk.kid ? { kid: config.clientAuth.jwk.kid } : {}),
          });
    const configuration = await oidc.discovery(
      config.issuer,
      config.clientId,
      { redirect_uris: [config.redirectUri] },
      auth,
      {
        timeout: TIMEOUT_S,
        // Development only: config.ts allows http solely on loopback addresses.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        ...(config.insecureLoopback ? { execute: [oidc.allowInsecureRequests] } : {}),
      },
    );
    configuration.timeout = TIMEOUT_S;
    return configuration;
  };

  const configuration = () =>
    (discovered ??= discover().catch((error: unknown) => {
      discovered = null;
      throw error;
    }));

  const toTokens = (
    response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    previous: ProviderTokens | null,
  ): ProviderTokens => {
    const issued = now();
    const expiresIn = response.expiresIn();
    const expiresAt = expiresIn === undefined ? null : issued + expiresIn * 1000;
    const refreshAt =
      expiresAt === null
        ? null
        : expiresAt - Math.min(config.refreshSkewMs, ((expiresIn ?? 0) * 1000) / 2);
    return {
      accessToken: response.access_token,
      // A provider that does not rotate refresh tokens sends none back: keep the old one.
      refreshToken: response.refresh_token ?? previous?.refreshToken ?? null,
      idToken: response.id_token ?? previous?.idToken ?? null,
      expiresAt,
      refreshAt,
    };
  };

  return {
    config,
    configuration,
    async authorizationUrl({ verifier, state, nonce }) {
      return oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: config.redirectUri,
        scope: config.scope,
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
    },
    async redeem(query, { verifier, state, nonce }) {
      const configuration_ = await configuration();
      // The callback URL is rebuilt from configuration, never from the request's Host.
      const current = new URL(config.redirectUri);
      current.search = query;
      const response = await oidc.authorizationCodeGrant(configuration_, current, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const claims = response.claims();
      if (!claims) throw new Error('the provider sent no ID token');
      let userinfo: Record<string, unknown> = {};
      if (claims.email === undefined && configuration_.serverMetadata().userinfo_endpoint) {
        try {
          userinfo = await oidc.fetchUserInfo(configuration_, response.access_token, claims.sub);
        } catch {
          // An access token meant for another resource server may not open userinfo.
        }
      }
      return { tokens: toTokens(response, null), claims, userinfo };
    },
    async refresh(refreshToken, previous) {
      const response = await oidc.refreshTokenGrant(await configuration(), refreshToken);
      return toTokens(response, previous);
    },
    async endSessionUrl(idToken) {
      const configuration_ = await configuration();
      if (!configuration_.serverMetadata().end_session_endpoint) return null;
      return oidc.buildEndSessionUrl(configuration_, {
        post_logout_redirect_uri: config.postLogoutRedirectUri,
        ...(idToken ? { id_token_hint: idToken } : { client_id: config.clientId }),
      }).href;
    },
    async revoke(token) {
      const configuration_ = await configuration();
      if (!configuration_.serverMetadata().revocation_endpoint) return;
      await oidc.tokenRevocation(configuration_, token, { token_type_hint: 'refresh_token' });
    },
  };
}
