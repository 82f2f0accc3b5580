import type { LatchkeyError } from '../errors.js';
import type { SessionRecord } from '../stores/types.js';
import type { RequestHead } from '../request-head.js';
import type { PublicUser } from '../wire.js';

export type { RequestHead } from '../request-head.js';

/** What an adapter knows about the connection that the Request does not carry. */
export interface ConnectionInfo {
  /** The socket's remote address. */
  remoteAddress?: string | null;
}

/**
 * What the auth routes read of a request: a Web `Request` is one; the Node
 * adapters pass a view over the `IncomingMessage` whose body stream is made only
 * when a route reads it.
 */
export interface AuthRequest extends RequestHead {
  /** Absolute, or the path and query. */
  readonly url: string;
  readonly body: ReadableStream<Uint8Array> | null;
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
