import { forgotPassword, resetPassword, sendVerification, verifyEmail } from '../auth/recovery.js';
import { reply } from './reply.js';
import { unwrap, type Route, type RouteKit } from './routes.js';
import { forgotPasswordBody, resetPasswordBody, verifyEmailBody } from './schemas.js';

/**
 * Account recovery and email verification (API.md, *Account recovery*), mounted only
 * when a mailer is configured (`mail` option); without one these paths are `404`.
 *
 * - `POST /password/forgot { email }` → `202`, the same answer whether or not the
 *   account exists; `429` past the per-address or per-email limit.
 * - `POST /password/reset { token, newPassword, code?, recoveryCode? }` → `204`; no
 *   session is started (every one of the account's has just ended).
 * - `POST /email/verify/send` (signed in) → `202`.
 * - `POST /email/verify { token }` → `204`.
 *
 * None of them reads a credential cookie but the `send` route: a reset or verification
 * link may be opened in any browser. Each unsafe request must still be same-origin.
 */
export function recoveryRoutes(kit: RouteKit): Route[] {
  const { ctx } = kit;
  if (!ctx.mail) return [];
  return [
    {
      method: 'POST',
      pattern: /^\/password\/forgot$/,
      async handler(request, connection) {
        kit.requireSameOrigin(request, connection);
        const { email } = await kit.body(request, forgotPasswordBody);
        unwrap(await forgotPassword(ctx, email, kit.caller(request, connection)));
        return reply(202);
      },
    },
    {
      method: 'POST',
      pattern: /^\/password\/reset$/,
      async handler(request, connection) {
        kit.requireSameOrigin(request, connection);
        const body = await kit.body(request, resetPasswordBody);
        unwrap(await resetPassword(ctx, body, kit.caller(request, connection)));
        return reply(204);
      },
    },
    {
      method: 'POST',
      pattern: /^\/email\/verify\/send$/,
      async handler(request, connection) {
        const auth = await kit.requireAuth(request, connection);
        unwrap(await sendVerification(ctx, auth, kit.caller(request, connection)));
        return reply(202, undefined, auth.setCookies);
      },
    },
    {
      method: 'POST',
      pattern: /^\/email\/verify$/,
      async handler(request, connection) {
        kit.requireSameOrigin(request, connection);
        const { token } = await kit.body(request, verifyEmailBody);
        unwrap(await verifyEmail(ctx, token, kit.caller(request, connection)));
        return reply(204);
      },
    },
  ];
}
