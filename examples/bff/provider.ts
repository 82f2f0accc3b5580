import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ProviderContext } from 'oidc-provider';

/**
 * A real OpenID provider (panva's oidc-provider) on 127.0.0.1, for the demo and the
 * tests: its built-in development login page (any login, any password), consent given
 * automatically (a first-party client), authorization code + PKCE, refresh tokens,
 * revocation, end session and back-channel logout. Access tokens are JWTs for the
 * upstream API (an RFC 8707 resource indicator), so the upstream verifies them itself
 * against the provider's JWKS.
 */
export interface LocalProviderOptions {
  /** The app's origins (one per app server): the redirect and post-logout URIs. */
  appUrls: readonly string[];
  /** The upstream API's URL: the access tokens' audience. */
  upstreamUrl: string;
  /** @default 'latchkey-demo' */
  clientId?: string;
  /** @default a fixed demo secret */
  clientSecret?: string;
  /** Access-token lifetime in seconds. @default 300 */
  accessTokenTtl?: number;
  /** Issue a new refresh token on every refresh (and refuse a used one). @default false */
  rotateRefreshTokens?: boolean;
  /** Logins whose email the provider does not vouch for (`email_verified: false`). */
  unverifiedEmails?: readonly string[];
  /** Where the provider posts logout tokens. @default the first app URL's `/auth/oidc/backchannel-logout` */
  backchannelLogoutUri?: string;
  /** @default 0 (any free port) */
  port?: number;
}

export interface LocalProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Every token-endpoint request, in order: the grant type and whether it succeeded. */
  tokenRequests: { grantType: string; ok: boolean }[];
  /** Successful refresh grants so far. */
  refreshes(): number;
  /** Revokes every grant of the account (its refresh tokens stop working). */
  revokeGrants(accountId: string): Promise<number>;
  /** Sends the back-channel logout for the account's latest provider session. */
  backchannelLogout(accountId: string): Promise<void>;
  close(): Promise<void>;
}

const grantTypeOf = (ctx: ProviderContext) => {
  const type = ctx.oidc.params?.grant_type;
  return typeof type === 'string' ? type : '';
};

export const DEMO_CLIENT_SECRET = 'demo-client-secret-'.padEnd(40, 'x');

export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const clientId = options.clientId ?? 'latchkey-demo';
  const clientSecret = options.clientSecret ?? DEMO_CLIENT_SECRET;
  const ttl = options.accessTokenTtl ?? 300;
  const unverified = new Set(options.unverifiedEmails ?? []);
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const grants = new Map<string, Set<string>>();
  const sids = new Map<string, string>();
  const tokenRequests: LocalProvider['tokenRequests'] = [];
  const remember = (accountId: string, grantId: string) => {
    const set = grants.get(accountId) ?? new Set<string>();
    set.add(grantId);
    grants.set(accountId, set);
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.appUrls.map((url) => `${url}/auth/oidc/callback`),
        post_logout_redirect_uris: options.appUrls.map((url) => `${url}/`),
        backchannel_logout_uri:
          options.backchannelLogoutUri ?? `${options.appUrls[0]}/auth/oidc/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    ],
    // Any login: the account's email is the login (or login@example.test).
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => {
        const email = id.includes('@') ? id : `${id}@example.test`;
        return { sub: id, email, email_verified: !unverified.has(email), name: `User ${id}` };
      },
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Email in the ID token: the access token is for the upstream, not for userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.upstreamUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api:read',
          audience: options.upstreamUrl,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
        }),
      },
    },
    pkce: { required: () => true },
    issueRefreshToken: () => true,
    rotateRefreshToken: options.rotateRefreshTokens === true,
    ttl: { AccessToken: ttl, IdToken: 3600, RefreshToken: 86_400, Grant: 86_400, Session: 86_400 },
    cookies: { keys: ['local-provider-cookie-key-'.padEnd(40, 'k')] },
    // Its SSRF guard refuses loopback addresses, and every party here is on loopback: the
    // back-channel logout call goes out without it (a local development provider only).
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfGuard, ...rest } = init;
      return fetch(url, rest);
    },
    // A first-party client: consent is given without asking.
    loadExistingGrant: async (ctx: ProviderContext) => {
      const { client, session, result } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId);
        if (found) return found;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: client.clientId,
        accountId: session.accountId,
      });
      grant.addOIDCScope('openid email profile offline_access');
      grant.addResourceScope(options.upstreamUrl, 'api:read');
      remember(session.accountId, await grant.save());
      return grant;
    },
  });

  provider.on('grant.success', (ctx) => {
    const grantType = grantTypeOf(ctx);
    tokenRequests.push({ grantType, ok: true });
    const code = ctx.oidc.entities.AuthorizationCode;
    if (code?.sid) sids.set(code.accountId, code.sid);
  });
  provider.on('grant.error', (ctx) => {
    tokenRequests.push({ grantType: grantTypeOf(ctx), ok: false });
  });
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    tokenRequests,
    refreshes: () => tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.ok).length,
    async revokeGrants(accountId) {
      let revoked = 0;
      for (const id of grants.get(accountId) ?? []) {
        const grant = await provider.Grant.find(id);
        if (grant) {
          await grant.destroy();
          revoked += 1;
        }
      }
      grants.delete(accountId);
      return revoked;
    },
    async backchannelLogout(accountId) {
      const sid = sids.get(accountId);
      const client = await provider.Client.find(clientId);
      if (!sid || !client) throw new Error(`no provider session for ${accountId}`);
      await client.backchannelLogout(accountId, sid);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
