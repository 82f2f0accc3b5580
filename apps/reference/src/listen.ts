import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { answerClientErrors } from '@latchkey/adapters/node';
import { securityHeaders, type Latchkey } from '@latchkey/core';
import type { Hono } from 'hono';

export interface Listening {
  port: number;
  /** Stops accepting, closes idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/**
 * Serves the app in node:http (through @hono/node-server), with Node's own error
 * answers (malformed request line: 400, oversized headers: 431) carrying the
 * security headers too. The bench starts the app through this same function.
 */
export async function listen(
  // Any Hono app: its variables do not matter here.
  app: Pick<Hono, 'fetch'>,
  latchkey: Latchkey,
  where: { port: number; host: string },
): Promise<Listening> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: where.port, hostname: where.host }, () =>
      resolve(s),
    ) as Server;
    // Installed before the first connection can arrive.
    answerClientErrors(s, securityHeaders(latchkey.config));
    s.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open.
        server.closeAllConnections();
      }),
  };
}
