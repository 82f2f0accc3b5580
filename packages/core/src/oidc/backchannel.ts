import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { AuthContext } from '../auth/context.js';
import { LINK_RECORD, pairId, SID_RECORD } from '../auth/oidc-sign-in.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { OidcClient } from './client.js';
import type { TokenVault } from './vault.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const JTI_RECORD = 'oidc-logout-jti';
/** A logout token older than this (by `iat`) is refused; its `jti` is remembered this long. */
const MAX_AGE_S = 300;
const CLOCK_TOLERANCE_S = 30;
/** Asymmetric algorithms only: never `none`, never an HMAC keyed with the client secret. */
const ALGORITHMS = [
  'RS256',
  'PS256',
  'ES256',
  'EdDSA',
  'RS384',
  'PS384',
  'ES384',
  'RS512',
  'PS512',
  'ES512',
];

/**
 * OpenID Connect Back-Channel Logout 1.0: the provider posts a signed `logout_token`
 * (server to server, so no browser CSRF check applies) and every Latchkey session
 * signed in through that provider session (`sid`) or subject (`sub`) is revoked, in
 * the store, so every server (and its near-cache) sees it at once.
 */
export function createBackchannelLogout(ctx: AuthContext, client: OidcClient, vault: TokenVault) {
  let jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  const keys = async () => {
    if (jwks) return jwks;
    const uri = (await client.configuration()).serverMetadata().jwks_uri;
    if (!uri) throw new Error('the provider publishes no jwks_uri');
    return (jwks = createRemoteJWKSet(new URL(uri), { timeoutDuration: 10_000 }));
  };

  const refuse = (message: string): { ok: false; error: LatchkeyError } => ({
    ok: false,
    error: fail('invalid_request', { message }),
  });

  return async (
    logoutToken: string,
  ): Promise<{ ok: true; revoked: number } | { ok: false; error: LatchkeyError }> => {
    const issuer = (await client.configuration()).serverMetadata().issuer;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(logoutToken, await keys(), {
        issuer,
        audience: client.config.clientId,
        algorithms: ALGORITHMS,
        requiredClaims: ['iat', 'jti', 'events'],
        maxTokenAge: MAX_AGE_S,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(ctx.now()),
      }));
    } catch (error) {
      if (error instanceof TypeError) throw fail('upstream_unavailable', { cause: error });
      return refuse('The logout token is not valid.');
    }
    const events = claims.events as Record<string, unknown> | undefined;
    if (typeof events !== 'object' || events === null || typeof events[EVENT] !== 'object') {
      return refuse('The logout token has no back-channel logout event.');
    }
    if ('nonce' in claims) return refuse('A logout token must not carry a nonce.');
    const sub = typeof claims.sub === 'string' ? claims.sub : null;
    const sid = typeof claims.sid === 'string' ? claims.sid : null;
    if (!sub && !sid) return refuse('The logout token names neither sub nor sid.');
    if (typeof claims.jti !== 'string') return refuse('The logout token has no jti.');

    // Each logout token once: a replay (within its lifetime) is refused.
    const now = ctx.now();
    const fresh = await ctx.store.records.createRecord(
      {
        kind: JTI_RECORD,
        id: await pairId(issuer, claims.jti),
        userId: null,
        data: '',
        createdAt: now,
        expiresAt: now + (MAX_AGE_S + 2 * CLOCK_TOLERANCE_S) * 1000,
      },
      now,
    );
    if (!fresh) return refuse('This logout token was already used.');

    const owner = sub
      ? await ctx.store.records.getRecord(LINK_RECORD, await pairId(issuer, sub), now)
      : await ctx.store.records.getRecord(SID_RECORD, await pairId(issuer, sid as string), now);
    if (!owner?.userId) return { ok: true, revoked: 0 };
    const userId = owner.userId;
    let revoked = 0;
    for (const session of await vault.sessionsOf(userId)) {
      if (sub && session.sub !== sub) continue;
      if (sid && session.sid !== sid) continue;
      if (await ctx.store.sessions.deleteSession(session.sessionId)) {
        revoked += 1;
        ctx.log({
          event: 'session_revoked',
          userId,
          sessionId: session.sessionId,
          by: 'backchannel_logout',
        });
      }
      await vault.remove(session.sessionId);
    }
    return { ok: true, revoked };
  };
}
