import * as oidc from 'openid-client';
import { counted, rateLimited } from '../auth/limits.js';
import { logout } from '../auth/logout.js';
import { oidcSignIn } from '../auth/oidc-sign-in.js';
import { readCookie, serializeCookie } from '../cookies.js';
import { randomToken } from '../crypto.js';
import { fail, LatchkeyError } from '../errors.js';
import { providerFailure } from '../oidc/client.js';
import type { OidcFeature } from '../oidc/feature.js';
import { SECOND_FACTOR_FRAGMENT } from '../wire.js';
import { errorReply, htmlReply, reply, type Reply } from './reply.js';
import type { Route, RouteKit } from './routes.js';
import type { AuthRequest } from './types.js';

/**
 * The sign-in transaction (PKCE verifier, state, nonce, where to go back): sealed in a
 * short-lived host-only cookie. `SameSite=Lax` because the provider's redirect back is
 * a cross-site top-level navigation, which a Strict cookie would not ride on.
 */
export const OIDC_COOKIE = '__Host-Http-oidc';
const TRANSACTION_RECORD = 'oidc-transaction';
const TRANSACTION_TTL_MS = 10 * 60_000;

interface Transaction {
  /** Also a record id: the transaction can be finished once. */
  id: string;
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
  expiresAt: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A same-origin path (with query and fragment) to go back to; anything else is `/`. */
export function safeReturnTo(value: string | null, publicOrigin: string): string {
  if (!value || value.length > 2048 || !value.startsWith('/') || /^\/[/\\]/.test(value)) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(value)) return '/';
  try {
    const url = new URL(value, publicOrigin);
    return url.origin === publicOrigin ? url.pathname + url.search + url.hash : '/';
  } catch {
    return '/';
  }
}

/** The callback's page: no script (CSP holds); a meta refresh and a link move on. */
/**
 * Where the browser goes when the sign-in waits for the account's second factor: the
 * same page, with the fragment `#second-factor` (never sent to a server) telling the
 * SPA to ask for the code. A fragment `returnTo` had is dropped.
 */
function secondFactorStep(returnTo: string): string {
  const hash = returnTo.indexOf('#');
  return `${hash === -1 ? returnTo : returnTo.slice(0, hash)}#${SECOND_FACTOR_FRAGMENT}`;
}

function movingOnPage(to: string): string {
  const href = escapeHtml(to);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=${href}">
<meta name="referrer" content="no-referrer">
<title>Signed in</title></head>
<body><p>Signed in. <a href="${href}">Continue</a></p></body></html>
`;
}

function errorPage(error: LatchkeyError): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in did not complete</title></head>
<body><h1>Sign-in did not complete</h1>
<p data-error-code="${error.code}">${escapeHtml(error.message)}</p>
<p><a href="/">Back to the app</a></p></body></html>
`;
}

const wantsHtml = (request: AuthRequest) =>
  (request.headers.get('accept') ?? '').includes('text/html');

/** Reads an `application/x-www-form-urlencoded` body under a byte limit. */
async function readForm(request: AuthRequest, limit: number): Promise<URLSearchParams> {
  const type = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw fail('invalid_request');
  if (!request.body) throw fail('invalid_request');
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw fail('payload_too_large');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/**
 * Sign-in through an OpenID provider (API.md, *Backend for frontend*): `GET
 * /oidc/login`, `GET /oidc/callback`, `POST /oidc/logout`, `POST
 * /oidc/backchannel-logout`.
 */
export function oidcRoutes(feature: OidcFeature) {
  return (kit: RouteKit): Route[] => {
    const { config, ctx, cookies } = kit;
    const { client, vault, transactions } = feature;
    const transactionCookie = (value: string, maxAgeMs: number) =>
      serializeCookie(OIDC_COOKIE, value, {
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        maxAge: Math.ceil(maxAgeMs / 1000),
      });
    const clearedTransaction = transactionCookie('', 0);
    const logoutHeaders: Record<string, string> = {};
    if (config.clearSiteData) logoutHeaders['Clear-Site-Data'] = config.clearSiteData;

    const unreachable = (error: unknown) => fail('upstream_unavailable', { cause: error });
    // Each sign-in start writes a 10-minute transaction record: bounded per address, like
    // the passkey options (a generous 10× the address limit, for offices behind one NAT).
    const startLimit = counted(
      ctx.store.rateLimits.createLimiter({
        name: 'oidc-login',
        windowMs: config.rateLimitWindowMs,
      }),
      config.addressLimit * 10,
    );

    const login: Route['handler'] = async (request, connection) => {
      const over = await startLimit.exceeded(
        kit.reader.client(request, connection).ip ?? 'unknown',
      );
      if (over) throw rateLimited(over);
      const query = new URL(request.url, 'http://localhost').searchParams;
      const now = ctx.now();
      const transaction: Transaction = {
        id: randomToken(),
        verifier: oidc.randomPKCECodeVerifier(),
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        returnTo: safeReturnTo(query.get('returnTo'), config.publicOrigin),
        expiresAt: now + TRANSACTION_TTL_MS,
      };
      let location: URL;
      try {
        location = await client.authorizationUrl(transaction);
      } catch (error) {
        throw unreachable(error);
      }
      await ctx.store.records.createRecord(
        {
          kind: TRANSACTION_RECORD,
          id: transaction.id,
          userId: null,
          data: '',
          createdAt: now,
          expiresAt: transaction.expiresAt,
        },
        now,
      );
      const sealed = transactions.seal(JSON.stringify(transaction));
      return reply(302, undefined, [transactionCookie(sealed, TRANSACTION_TTL_MS)], {
        Location: location.href,
      });
    };

    const finish = async (request: AuthRequest, connection: Parameters<Route['handler']>[1]) => {
      const who = kit.caller(request, connection);
      const sealed = readCookie(request.headers.get('cookie'), OIDC_COOKIE);
      const opened = sealed ? transactions.open(sealed) : null;
      if (!opened) {
        throw fail('invalid_request', {
          message: 'The sign-in was not started here, or it took too long. Start it again.',
        });
      }
      const transaction = JSON.parse(opened) as Transaction;
      const now = ctx.now();
      const taken = await ctx.store.records.takeRecord(TRANSACTION_RECORD, transaction.id, now);
      if (!taken || transaction.expiresAt <= now) {
        throw fail('invalid_request', {
          message: 'This sign-in was already used or has expired. Start it again.',
        });
      }
      const search = new URL(request.url, 'http://localhost').search;
      let redeemed: Awaited<ReturnType<typeof client.redeem>>;
      try {
        redeemed = await client.redeem(search, transaction);
      } catch (error) {
        if (providerFailure(error) === 'unreachable') throw unreachable(error);
        ctx.log({ event: 'login_failed', userId: null, ip: who.client.ip });
        throw fail('invalid_request', {
          message: 'The identity provider did not complete the sign-in.',
          cause: error,
        });
      }
      const { claims, userinfo, tokens } = redeemed;
      const email = claims.email ?? userinfo.email;
      const verified = claims.email !== undefined ? claims.email_verified : userinfo.email_verified;
      const name = claims.name ?? userinfo.name;
      const { issuer } = (await client.configuration()).serverMetadata();
      const sid = typeof claims.sid === 'string' ? claims.sid : null;
      const result = await oidcSignIn(
        ctx,
        {
          issuer,
          sub: claims.sub,
          sid,
          email: typeof email === 'string' ? email : null,
          emailVerified: verified === true,
          name: typeof name === 'string' ? name : null,
        },
        who,
        feature.carry({ issuer, sub: claims.sub, sid, tokens }),
      );
      if (!result.ok) throw result.error;
      const { signIn, pending } = result;
      if (pending) {
        // The account's own second factor is still to come: the SPA asks for it.
        return htmlReply(200, movingOnPage(secondFactorStep(transaction.returnTo)), [
          clearedTransaction,
          cookies.pendingSignIn(pending.token, pending.expiresAt - ctx.now()),
        ]);
      }
      await vault.save(signIn.session, { sub: claims.sub, sid }, tokens);
      return htmlReply(200, movingOnPage(transaction.returnTo), [
        clearedTransaction,
        cookies.credential(signIn.credential, config.absoluteTimeoutMs),
        cookies.device(signIn.device),
      ]);
    };

    const callback: Route['handler'] = async (request, connection) => {
      try {
        return await finish(request, connection);
      } catch (caught) {
        const error =
          caught instanceof LatchkeyError ? caught : fail('internal_error', { cause: caught });
        if (!wantsHtml(request)) return { ...errorReply(error), cookies: [clearedTransaction] };
        return htmlReply(error.status, errorPage(error), [clearedTransaction]);
      }
    };

    const signOut: Route['handler'] = async (request, connection): Promise<Reply> => {
      const auth = await kit.requireAuth(request, connection);
      const { presented } = kit.caller(request, connection);
      const saved = await vault.load(auth.sessionId);
      await logout(ctx, { presented, principal: auth });
      await vault.remove(auth.sessionId);
      const refreshToken = saved?.tokens.refreshToken;
      // Best effort, after the answer: the provider forgets the refresh token too.
      if (refreshToken) void client.revoke(refreshToken).catch(() => undefined);
      let redirectTo = feature.config.postLogoutRedirectUri;
      // A session that did not come from the provider (a password sign-in) has no
      // provider session to end: home, rather than the provider's "sign out?" page.
      if (saved) {
        try {
          redirectTo = (await client.endSessionUrl(saved.tokens.idToken ?? null)) ?? redirectTo;
        } catch {
          // The provider cannot be asked: signed out here, sent back home.
        }
      }
      return reply(200, { redirectTo }, [cookies.clearedCredential], logoutHeaders);
    };

    const backchannel: Route['handler'] = async (request) => {
      const form = await readForm(request, config.bodyLimit);
      const token = form.get('logout_token');
      if (!token) throw fail('invalid_request');
      const result = await feature.backchannelLogout(token);
      if (!result.ok) return errorReply(result.error);
      return reply(200);
    };

    return [
      { method: 'GET', pattern: /^\/oidc\/login$/, handler: login },
      { method: 'GET', pattern: /^\/oidc\/callback$/, handler: callback },
      { method: 'POST', pattern: /^\/oidc\/logout$/, handler: signOut },
      // Server to server from the provider: no browser CSRF check applies (a browser
      // cannot forge the provider's signature, and a replayed token is refused).
      { method: 'POST', pattern: /^\/oidc\/backchannel-logout$/, handler: backchannel },
    ];
  };
}
