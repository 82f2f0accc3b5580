import type { Authenticated } from '../auth/authenticate.js';
import { authenticateBearer, authenticateSession } from '../auth/authenticate.js';
import type { AuthContext } from '../auth/context.js';
import { toPublicUser } from '../auth/public.js';
import { LatchkeyError } from '../errors.js';
import { isUnsafeMethod } from '../origin.js';
import type { UserRecord } from '../stores/types.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../wire.js';
import type { CookieWriter } from './cookie-writer.js';
import type { RequestReader } from './request.js';
import type { AuthResult, ConnectionInfo, RequestHead } from './types.js';

/** What the routes get: the public result, plus the user record session mode loaded. */
export type RequestAuth =
  | (Extract<AuthResult, { ok: true }> & { readonly record: UserRecord | null })
  | Extract<AuthResult, { ok: false }>;

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;

/**
 * Authenticates a request: the cross-origin check, then (session mode) the session
 * cookie and, for unsafe methods, the session-bound anti-forgery token, or (token
 * mode) the bearer access token. Expected failures are values; a store fault is
 * `store_unavailable` (fail closed).
 */
export function createRequestAuthenticator(
  ctx: AuthContext,
  reader: RequestReader,
  cookies: CookieWriter,
  options: { csrfToken: boolean },
) {
  /**
   * One plain object per request: this runs on every authenticated request. The
   * public user is built here rather than by a getter on first read: V8 builds an
   * object literal holding an accessor in slow mode, which cost more (~3 % of the
   * request's CPU profile) than the small user object does.
   */
  const authenticated = (result: Authenticated, setCookies: string[]): RequestAuth => {
    const record = result.user;
    return {
      ok: true,
      userId: result.userId,
      sessionId: result.sessionId,
      user: record ? toPublicUser(record) : null,
      session: result.session,
      setCookies,
      record,
    };
  };

  const authenticateRequest = async (
    request: RequestHead,
    connection?: ConnectionInfo,
  ): Promise<RequestAuth> => {
    try {
      const refused = reader.crossOriginRefusal(request, connection);
      if (refused) return { ok: false, error: refused };
      if (ctx.tokens) {
        const match = BEARER.exec(request.headers.get('authorization') ?? '');
        const result = await authenticateBearer(ctx, match ? (match[1] as string) : null);
        return result.ok ? authenticated(result, []) : result;
      }
      const required = options.csrfToken && isUnsafeMethod(request.method);
      const result = await authenticateSession(
        ctx,
        reader.credential(request, SESSION_COOKIE, connection),
        { required, token: required ? request.headers.get(CSRF_HEADER) : null },
        () => reader.client(request, connection),
      );
      if (!result.ok) return result;
      const { renewed, session } = result;
      return authenticated(
        result,
        renewed && session ? [cookies.credential(renewed, session.expiresAt - ctx.now())] : [],
      );
    } catch (error) {
      if (error instanceof LatchkeyError) return { ok: false, error };
      throw error;
    }
  };

  // The public face of the same check (`Latchkey.authenticate`): the same object.
  const authenticate: (request: RequestHead, connection?: ConnectionInfo) => Promise<AuthResult> =
    authenticateRequest;

  return { authenticateRequest, authenticate };
}
