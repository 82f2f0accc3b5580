import { z } from 'zod';
import { deleteAccount } from '../auth/delete-account.js';
import { finishSignIn } from '../auth/login-mfa.js';
import { beginTotp, confirmTotp, disableTotp } from '../auth/mfa.js';
import { reauthWithPasskey } from '../auth/passkeys.js';
import { reauthenticate, type ReauthProof } from '../auth/reauth.js';
import type { SecondFactorProof } from '../auth/second-factor.js';
import { requireRecentAuth } from '../auth/step-up.js';
import { MFA_COOKIE, type RecoveryCodesResponse, type TotpEnrolment } from '../wire.js';
import { asAssertion, passkeyAssertionBody, passkeySettingsFor } from './passkey-routes.js';
import { errorReply, reply } from './reply.js';
import type { Route, RouteKit } from './routes.js';
import { unwrap } from './routes.js';

// What a person types: a 6-digit code or a recovery code, with spaces or dashes.
const code = z.string().min(1).max(64);
const password = z.string().min(1).max(4096);

/** Exactly one of the named fields. */
const oneOf = <T extends Record<string, unknown>>(body: T, names: readonly (keyof T)[]) =>
  names.filter((name) => body[name] !== undefined).length === 1;

const loginMfaBody = z
  .object({ code: code.optional(), recoveryCode: code.optional() })
  .refine((body) => oneOf(body, ['code', 'recoveryCode']), {
    message: 'expected code or recoveryCode',
    path: ['code'],
  });
const confirmBody = z.object({ code });
const reauthBody = z
  .object({ password: password.optional(), code: code.optional() })
  .refine((body) => oneOf(body, ['password', 'code']), {
    message: 'expected password or code',
    path: ['password'],
  });

/**
 * Routes of the second factor (TOTP + recovery codes), the two-step sign-in, step-up
 * re-authentication and account deletion (API.md *Second factor and passkeys*,
 * `POST /auth/reauth`, `DELETE /auth/account`).
 */
export function mfaRoutes(kit: RouteKit): Route[] {
  const { config, ctx, cookies, reader } = kit;
  const logoutHeaders: Record<string, string> = {};
  if (config.clearSiteData) logoutHeaders['Clear-Site-Data'] = config.clearSiteData;

  return [
    {
      method: 'POST',
      pattern: /^\/login\/mfa$/,
      async handler(request, connection) {
        kit.requireSameOrigin(request, connection);
        const body = await kit.body(request, loginMfaBody);
        const pending = reader.credential(request, MFA_COOKIE, connection);
        const proof: SecondFactorProof =
          body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode ?? '' };
        const result = await finishSignIn(ctx, pending, proof, kit.caller(request, connection));
        if (!result.ok) {
          // An unknown, used or expired pending sign-in is of no more use: drop its cookie.
          const cleared = result.error.code === 'unauthenticated' && pending !== null;
          return errorReply(result.error, cleared ? [cookies.clearedPendingSignIn] : []);
        }
        if (result.carry !== null) {
          await kit.completePendingSignIn?.(result.carry, result.user.id, result.signIn);
        }
        const answer = kit.signedIn(200, result.user, result.signIn);
        return { ...answer, cookies: [...(answer.cookies ?? []), cookies.clearedPendingSignIn] };
      },
    },
    {
      method: 'POST',
      pattern: /^\/mfa\/totp$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        const { secret, otpauthUrl } = unwrap(await beginTotp(ctx, auth));
        const body: TotpEnrolment = { secret, otpauthUrl };
        return reply(200, body, auth.setCookies);
      },
    },
    {
      method: 'POST',
      pattern: /^\/mfa\/totp\/confirm$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        const body = await kit.body(request, confirmBody);
        const client = reader.client(request, connection);
        const { recoveryCodes } = unwrap(await confirmTotp(ctx, auth, body.code, client));
        const answer: RecoveryCodesResponse = { recoveryCodes };
        return reply(200, answer, auth.setCookies);
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/mfa\/totp$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        unwrap(await disableTotp(ctx, auth));
        return reply(204, undefined, auth.setCookies);
      },
    },
    {
      method: 'POST',
      pattern: /^\/reauth$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        const body = await kit.body(request, z.union([passkeyAssertionBody, reauthBody]));
        if ('response' in body) {
          const settings = passkeySettingsFor(kit);
          const caller = kit.caller(request, connection);
          unwrap(await reauthWithPasskey(ctx, settings, auth, asAssertion(body), caller));
          return reply(204, undefined, auth.setCookies);
        }
        const proof: ReauthProof =
          body.code !== undefined ? { code: body.code } : { password: body.password ?? '' };
        unwrap(await reauthenticate(ctx, auth, proof, reader.client(request, connection)));
        return reply(204, undefined, auth.setCookies);
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/account$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        unwrap(await requireRecentAuth(ctx, auth));
        await deleteAccount(ctx, auth.userId, auth.sessionId);
        // Signed out like logout: the cookie cleared, the origin's storage too.
        return reply(204, undefined, [cookies.clearedCredential], logoutHeaders);
      },
    },
  ];
}
