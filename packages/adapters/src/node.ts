import type { IncomingMessage, RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { ConnectionInfo } from '@latchkey/core';

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
