import type { Authenticated } from '../auth/authenticate.js';
import { authenticateBearer, authenticateSession } from '../auth/authenticate.js';
import type { AuthContext, Result } from '../auth/context.js';
import { toPublicUser } from '../auth/public.js';
import { LatchkeyError } from '../errors.js';
import { isUnsafeMethod } from '../origin.js';
import type { PublicUser } from '../wire.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../wire.js';
import type { CookieWriter } from './cookie-writer.js';
import type { RequestReader } from './request.js';
import type { AuthResult, ConnectionInfo } from './types.js';

export type RequestAuth = Result<Authenticated & { setCookies: string[] }>;

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
  const authenticateRequest = async (
    request: Request,
    connection?: ConnectionInfo,
  ): Promise<RequestAuth> => {
    try {
      const refused = reader.crossOriginRefusal(request, connection);
      if (refused) return { ok: false, error: refused };
      if (ctx.tokens) {
        const match = BEARER.exec(request.headers.get('authorization') ?? '');
        const result = await authenticateBearer(ctx, match ? (match[1] as string) : null);
        return result.ok ? { ...result, setCookies: [] } : result;
      }
      const client = reader.client(request, connection);
      const result = await authenticateSession(
        ctx,
        reader.credential(request, SESSION_COOKIE, connection),
        {
          required: isUnsafeMethod(request.method) && options.csrfToken,
          token: request.headers.get(CSRF_HEADER),
        },
        client,
      );
      if (!result.ok) return result;
      const renewed = result.renewed;
      const setCookies =
        renewed && result.session
          ? [cookies.credential(renewed, result.session.expiresAt - ctx.now())]
          : [];
      return { ...result, setCookies };
    } catch (error) {
      if (error instanceof LatchkeyError) return { ok: false, error };
      throw error;
    }
  };

  /** The public face of the same check (`Latchkey.authenticate`). */
  const authenticate = async (
    request: Request,
    connection?: ConnectionInfo,
  ): Promise<AuthResult> => {
    const result = await authenticateRequest(request, connection);
    if (!result.ok) return result;
    const record = result.user;
    let user: PublicUser | undefined;
    return {
      ok: true,
      userId: result.userId,
      sessionId: result.sessionId,
      // Built on first read: most routes need only the id, and this runs per request.
      get user() {
        return record ? (user ??= toPublicUser(record)) : null;
      },
      session: result.session,
      setCookies: result.setCookies,
    };
  };

  return { authenticateRequest, authenticate };
}
