import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { answerClientErrors } from '@latchkey/adapters/node';
import { securityHeaders, type Latchkey } from '@latchkey/core';
import type { Hono } from 'hono';

/** What a graceful close found and how it went (for the operator's shutdown line). */
export interface DrainReport {
  /** Requests being answered when the close began. */
  inFlight: number;
  /** Open connections when the close began (idle keep-alive ones included). */
  connections: number;
  /**
   * Connections taken in after the close began, before the listener closed: those waiting
   * in the listen backlog, and any that arrived in those few event-loop turns.
   */
  acceptedAfterSignal: number;
  /** Requests answered while draining (those in flight, and later ones on open connections). */
  answered: number;
  /** Requests cut off because the timeout came first (0 in a clean drain). */
  cut: number;
  /** From the start of the close until the last connection closed. */
  ms: number;
}

export interface Listening {
  port: number;
  /** Requests being answered right now. */
  readonly inFlight: number;
  /**
   * Drains and stops: stops accepting (after taking in what already waits in the listen
   * backlog), answers every request already received with `Connection: close`, closes
   * idle keep-alive connections, and resolves once every connection is closed or
   * `timeoutMs` has passed (then the rest are cut). `onDraining` runs first, so a
   * readiness check can say "draining" while the requests finish.
   */
  drain(options?: { timeoutMs?: number; onDraining?: () => void }): Promise<DrainReport>;
  /** `drain()` with the default timeout. */
  close(): Promise<void>;
}

/** Default time the requests in flight get to finish. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Event-loop turns a connection gets to send its first request before it counts as idle. */
const FIRST_REQUEST_TURNS = 3;
/**
 * Longest time spent taking in the listen backlog before the listener closes (libuv
 * accepts only a connection or two per event-loop turn, so a backlog of a few hundred
 * takes a few hundred turns). Under a steady stream of new connections this bounds how
 * long they keep being taken in after the signal.
 */
const MAX_ACCEPT_MS = 1000;

/**
 * Resolves after the event loop has polled for I/O at least once more (an immediate set
 * from the check phase runs in the next iteration, after its poll phase), so connections
 * waiting in the backlog have been accepted and bytes that arrived have been read.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

interface Connection {
  /** Requests received on it so far. */
  requests: number;
  /** Requests received whose answer has not finished. */
  active: number;
  /** Bytes read when it last had nothing to answer: more since means a request is arriving. */
  bytesWhenIdle: number;
}

/**
 * Serves the app in node:http (through @hono/node-server), with Node's own error
 * answers (malformed request line: 400, oversized headers: 431) carrying the
 * security headers too, and a graceful close. The bench starts the app through this
 * same function.
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

  const connections = new Map<Socket, Connection>();
  const answering = new Set<ServerResponse>();
  let accepted = 0;
  let inFlight = 0;
  let draining = false;
  let answeredWhileDraining = 0;
  let settled: (() => void) | null = null;
  const check = () => {
    if (draining && connections.size === 0) settled?.();
  };

  server.on('connection', (socket: Socket) => {
    accepted++;
    connections.set(socket, { requests: 0, active: 0, bytesWhenIdle: 0 });
    socket.once('close', () => {
      connections.delete(socket);
      check();
    });
  });
  // Before the app's own listener, so the header is there whenever the app answers.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (connection) {
      connection.requests++;
      connection.active++;
    }
    inFlight++;
    answering.add(res);
    // Node ends the connection after an answer that says so: no keep-alive while draining.
    if (draining) res.setHeader('Connection', 'close');
    // 'close' fires once per response; on() skips once()'s wrapper on this hot path.
    res.on('close', () => {
      inFlight--;
      answering.delete(res);
      if (connection && --connection.active === 0) {
        connection.bytesWhenIdle = req.socket.bytesRead;
      }
      if (draining) {
        answeredWhileDraining++;
        // A keep-alive connection whose answer went out before draining began is idle now.
        closeIdle(false);
      }
    });
  });

  /**
   * Closes the connections with nothing to answer and no request arriving (no byte read
   * since their last answer: a request whose headers are still coming is left alone).
   * `fresh`: also those that have not sent anything yet (else they get a few turns first).
   */
  const closeIdle = (fresh: boolean) => {
    for (const [socket, connection] of connections) {
      if (connection.active > 0 || socket.bytesRead !== connection.bytesWhenIdle) continue;
      if (connection.requests > 0 || fresh) socket.destroy();
    }
  };

  let drained: Promise<DrainReport> | null = null;
  // Once: a second call (a second signal, a test's dispose) waits for the first.
  const drain: Listening['drain'] = (options) => (drained ??= drainOnce(options));
  const drainOnce: Listening['drain'] = async (options = {}) => {
    const started = performance.now();
    const report = { inFlight, connections: connections.size };
    const acceptedBefore = accepted;
    draining = true;
    options.onDraining?.();
    for (const res of answering) if (!res.headersSent) res.setHeader('Connection', 'close');
    const done = new Promise<void>((resolve) => (settled = resolve));

    // Connections the kernel has completed but Node has not accepted yet would be reset
    // by closing the listener: take them in first, until a turn finds none waiting.
    const acceptUntil =
      started + Math.min(MAX_ACCEPT_MS, (options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS) / 2);
    for (;;) {
      const before = accepted;
      await nextTurn();
      if (accepted === before || performance.now() >= acceptUntil) break;
    }
    // net.Server's close: http.Server's would also destroy every connection that has not
    // sent a complete request yet, including those just accepted whose bytes are unread.
    NetServer.prototype.close.call(server);
    const acceptedAfterSignal = accepted - acceptedBefore;
    closeIdle(false);
    // A connection just taken in gets a few turns for its first request to be read.
    for (let turn = 0; turn < FIRST_REQUEST_TURNS; turn++) await nextTurn();
    closeIdle(true);
    check();

    const timeoutMs = options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // The last answers may leave a connection that never sent a request: close it too.
    const idleSweep = setInterval(() => {
      if (inFlight === 0) closeIdle(true);
    }, 50);
    let cut = 0;
    if ((await Promise.race([done, cutOff])) === 'timeout') {
      cut = inFlight;
      server.closeAllConnections();
      for (const socket of connections.keys()) socket.destroy();
    }
    clearTimeout(timer);
    clearInterval(idleSweep);
    return {
      ...report,
      acceptedAfterSignal,
      answered: answeredWhileDraining,
      cut,
      ms: Math.round(performance.now() - started),
    };
  };

  return {
    port: (server.address() as AddressInfo).port,
    get inFlight() {
      return inFlight;
    },
    drain,
    close: async () => {
      await drain();
    },
  };
}
