import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The target URL with the proxy's host and port. */
  readonly url: string;
  /** Drops every connection and refuses new ones, like a dead network path. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /** Holds every byte in both directions while connections stay open: a silent partition. */
  freeze(): void;
  /** Delivers what was held, in order, and forwards again. */
  thaw(): void;
}

/** Ports a URL without one means, by scheme. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'redis:': 6379,
};

/** A TCP proxy to the host and port of `target` (a postgres:// or redis:// URL) that a test can break. */
export async function tcpProxy(target: string): Promise<TcpProxy> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<Socket>();
  const held: (() => void)[] = [];
  let frozen = false;
  let listener: Server | undefined;
  let port = 0;

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('close', () => to.destroy());
  };
  const open = async () => {
    listener = createServer((client) => {
      const upstream = connect(
        Number(upstreamUrl.port || DEFAULT_PORTS[upstreamUrl.protocol]),
        upstreamUrl.hostname,
      );
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      forward(client, upstream);
      forward(upstream, client);
    });
    listener.listen(port, '127.0.0.1');
    await once(listener, 'listening');
    port = (listener.address() as AddressInfo).port;
  };
  await open();
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString(),
    async cut() {
      const closing = listener ? new Promise((resolve) => listener?.close(resolve)) : undefined;
      listener = undefined;
      held.length = 0;
      for (const s of sockets) s.destroy();
      await closing;
    },
    restore: open,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const deliver of held.splice(0)) deliver();
    },
  };
}
