import type { LatchkeyError } from '../errors.js';
import type { SessionRecord } from '../stores/types.js';
import type { PublicUser } from '../wire.js';

/** What an adapter knows about the connection that the Request does not carry. */
export interface ConnectionInfo {
  /** The socket's remote address. */
  remoteAddress?: string | null;
}

export type AuthResult =
  | {
      ok: true;
      userId: string;
      /** The session (session mode) or refresh family (token mode) id. */
      sessionId: string;
      /** Session mode: loaded with the session. Token mode: null (the token is verified without the user record). */
      user: PublicUser | null;
      session: SessionRecord | null;
      /** Set-Cookie headers the response must carry (a cookie re-signed under a new key). */
      setCookies: string[];
    }
  | { ok: false; error: LatchkeyError };
