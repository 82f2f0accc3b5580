import {
  STATUS_CODES,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import {
  fail,
  type AuthResult,
  type ConnectionInfo,
  type ErrorBody,
  type ErrorCode,
  type Latchkey,
} from '@latchkey/core';
import {
  connectionOf,
  createNodeResponder,
  isUnderBasePath,
  requestHead,
  type Authenticated,
} from './incoming.js';

import { answerNode } from './node-reply.js';

export type { Authenticated, JsonInit } from './incoming.js';

/** A Web-standard handler as Latchkey and fetch-first frameworks produce. */
export type FetchHandler = (
  request: Request,
  connection: ConnectionInfo,
) => Response | Promise<Response>;

/**
 * Mounts a `(Request) => Response` handler in node:http (`http.createServer(...)`).
 * The socket's address is passed on, since a Request cannot carry it.
 */
export function toNodeListener(handler: FetchHandler): RequestListener {
  const listener = getRequestListener((request, env) =>
    handler(request, {
      remoteAddress: (env.incoming as IncomingMessage).socket.remoteAddress ?? null,
    }),
  );
  return (incoming, outgoing) => {
    // getRequestListener answers every error itself; nothing is left to await.
    void listener(incoming, outgoing);
  };
}

/** What `answerClientErrors` listens on: a node:http or node:https server. */
export interface ClientErrorSource {
  on(event: 'clientError', listener: (error: Error, socket: Duplex) => void): unknown;
}

/** How long a socket may linger after its error answer before it is destroyed. */
const LINGER_MS = 5000;

/**
 * Node's own status for each parser error it answers itself, kept; the body is the
 * one JSON error shape with the stable code and its generic message.
 */
const ANSWERS: Record<string, { status: number; code: ErrorCode }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'invalid_request' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'payload_too_large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'invalid_request' },
};
const BAD_REQUEST: { status: number; code: ErrorCode } = { status: 400, code: 'invalid_request' };

/**
 * Makes the answers that node:http writes itself, before any handler runs (a
 * malformed request line: `400`; headers over `maxHeaderSize`, 16 KiB by default:
 * `431`; a request that timed out: `408`; oversized chunk extensions: `413`), carry
 * the security headers, as API.md requires of every response: pass
 * `securityHeaders(latchkey.config)` from @latchkey/core. Node's status codes are
 * kept. Each answer is a complete HTTP/1.1 response with `Cache-Control: no-store`,
 * `Connection: close` and the JSON error body (`invalid_request`, or
 * `payload_too_large` for the 413, with the same generic message as everywhere
 * else), and the connection is closed after it. A reset connection, a socket that can no longer be
 * written, or one with a response already under way is destroyed without an answer
 * (writing then would corrupt what the peer reads). The responses are built once
 * here; a header with CR or LF in its name or value throws.
 */
export function answerClientErrors(
  server: ClientErrorSource,
  headers: Readonly<Record<string, string>>,
): void {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new TypeError(`answerClientErrors: header ${JSON.stringify(name)} contains CR or LF`);
    }
    lines.push(`${name}: ${value}`);
  }
  const build = ({ status, code }: { status: number; code: ErrorCode }) => {
    const body: ErrorBody = { error: { code, message: fail(code).message } };
    const text = JSON.stringify(body);
    return Buffer.from(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
        ...lines,
        'Cache-Control: no-store',
        'Connection: close',
        // The same Content-Type as every other JSON answer of Latchkey's.
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(text)}`,
        '',
        text,
      ].join('\r\n'),
    );
  };
  const prebuilt = new Map<string, Buffer>(
    Object.entries(ANSWERS).map(([errorCode, answer]) => [errorCode, build(answer)]),
  );
  const badRequest = build(BAD_REQUEST);

  server.on('clientError', (error, socket) => {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // The response node:http has attached to this socket, if one is being written.
    const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
      socket.destroy();
      return;
    }
    // end(), not destroy(): the peer gets the answer and our FIN; a client that
    // never closes its side is cut off after LINGER_MS.
    socket.end(prebuilt.get(code) ?? badRequest);
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  });
}

/**
 * The node:http binding, for servers that are not built on a framework:
 *
 * ```ts
 * const auth = latchkeyNode(latchkey);
 * createServer(async (req, res) => {
 *   if (auth.isAuthRoute(req)) return auth.routes(req, res);
 *   const session = await auth.requireAuth(req, res); // answers 401/403/503 itself
 *   if (!session) return;
 *   auth.json(res, { id: session.userId }, { auth: session });
 * });
 * ```
 *
 * Everything reads and writes Node's own request and response objects: no Web
 * Request or Response is built (the auth routes read a body through a Web stream
 * made only when they need one). Neither `routes` nor `requireAuth` rejects.
 */
export function latchkeyNode(latchkey: Latchkey) {
  const responder = createNodeResponder(latchkey);
  const basePath = latchkey.config.basePath;
  return {
    /** Whether the request is for the auth routes (under `basePath`, `/auth` by default). */
    isAuthRoute: (req: IncomingMessage): boolean => isUnderBasePath(req.url ?? '/', basePath),
    /** Answers a request for the auth routes. */
    routes: (req: IncomingMessage, res: ServerResponse): Promise<void> =>
      answerNode(latchkey, req, res),
    /** The session check of `latchkey.authenticate`, on a Node request. */
    authenticate: (req: IncomingMessage): Promise<AuthResult> =>
      latchkey.authenticate(requestHead(req), connectionOf(req)),
    /**
     * Authenticates; when that fails, answers the error itself and resolves null.
     * Never rejects: a fault it did not expect (a bug; a store outage is `503`)
     * answers `500 internal_error` without a stack and goes to `console.error`.
     */
    async requireAuth(req: IncomingMessage, res: ServerResponse): Promise<Authenticated | null> {
      let auth: AuthResult;
      try {
        auth = await latchkey.authenticate(requestHead(req), connectionOf(req));
      } catch (error) {
        console.error('latchkeyNode: authenticate failed', error);
        responder.sendError(res, fail('internal_error', { cause: error }));
        return null;
      }
      if (auth.ok) return auth;
      responder.sendError(res, auth.error);
      return null;
    },
    ...responder,
  };
}
