import { once } from 'node:events';
import {
  createServer,
  IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { createLatchkey, securityHeaders } from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { answerClientErrors, latchkeyNode, toNodeListener } from './node.js';

describe('toNodeListener', () => {
  it('mounts the handler in node:http and passes the socket address on', async () => {
    const seen: (string | null | undefined)[] = [];
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: 'http://localhost',
      logger: () => undefined,
    });
    const server = createServer(
      toNodeListener(async (request, connection) => {
        seen.push(connection.remoteAddress);
        if (new URL(request.url).pathname.startsWith('/auth/'))
          return latchkey.handle(request, connection);
        const auth = await latchkey.authenticate(request, connection);
        if (!auth.ok) return latchkey.errorResponse(auth.error);
        return latchkey.json({ id: auth.userId }, { setCookies: auth.setCookies });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const register = await fetch(`${base}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: 'node@example.com',
          password: 'correct horse battery staple',
        }),
      });
      expect(register.status).toBe(201);
      const cookie = register.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      const me = await fetch(`${base}/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(me.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(((await me.json()) as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
      const anonymous = await fetch(`${base}/me`);
      expect(anonymous.status).toBe(401);
      expect(seen.every((address) => address === '127.0.0.1')).toBe(true);
    } finally {
      server.close();
    }
  });
});

/** Sends raw bytes and reads until the server closes: status, headers, body. */
async function raw(port: number, bytes: string) {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.write(bytes);
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    statusLine,
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: text.slice(split + 4),
  };
}

describe('answerClientErrors', () => {
  const headers = securityHeaders(
    createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: 'http://localhost',
      logger: () => undefined,
    }).config,
  );

  async function listening(install: boolean) {
    const server = createServer((_request, response) => response.end('ok'));
    if (install) answerClientErrors(server, headers);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  }

  const expectSecured = (reply: Awaited<ReturnType<typeof raw>>) => {
    for (const [name, value] of Object.entries(headers)) {
      expect(reply.headers.get(name.toLowerCase())).toBe(value);
    }
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('connection')).toBe('close');
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Number(reply.headers.get('content-length'))).toBe(Buffer.byteLength(reply.body));
    expect(JSON.parse(reply.body)).toEqual({
      error: { code: 'invalid_request', message: 'The request is malformed.' },
    });
  };

  it('answers a malformed request line with 400, the security headers and the JSON error', async () => {
    const { server, port } = await listening(true);
    try {
      const reply = await raw(port, 'NOT A REQUEST\r\n\r\n');
      expect(reply.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expectSecured(reply);
    } finally {
      server.close();
    }
  });

  it('answers headers over maxHeaderSize with 431 and the same headers', async () => {
    const { server, port } = await listening(true);
    try {
      const big = Array.from({ length: 200 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(100)}\r\n`);
      const reply = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\n${big.join('')}\r\n`);
      expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expectSecured(reply);
    } finally {
      server.close();
    }
  });

  it("keeps node's 408 for a request that is too slow, with the same headers", async () => {
    const server = createServer(
      { headersTimeout: 100, requestTimeout: 100, connectionsCheckingInterval: 20 },
      (_request, response) => response.end('ok'),
    );
    answerClientErrors(server, headers);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const reply = await raw(
        (server.address() as AddressInfo).port,
        'GET / HTTP/1.1\r\nHost: x\r\n',
      );
      expect(reply.statusLine).toBe('HTTP/1.1 408 Request Timeout');
      expectSecured(reply);
    } finally {
      server.close();
    }
  });

  it('leaves well-formed requests alone', async () => {
    const { server, port } = await listening(true);
    try {
      const reply = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('ok');
    } finally {
      server.close();
    }
  });

  it("without it, node's own answer carries none of the headers (the control)", async () => {
    const { server, port } = await listening(false);
    try {
      const reply = await raw(port, 'NOT A REQUEST\r\n\r\n');
      expect(reply.status).toBe(400);
      expect(reply.headers.has('content-security-policy')).toBe(false);
    } finally {
      server.close();
    }
  });

  it('refuses a header value with CR or LF when installed', () => {
    const server = createServer();
    expect(() => answerClientErrors(server, { 'X-Bad': 'a\r\nSet-Cookie: x=y' })).toThrow(
      /CR or LF/,
    );
  });
});

describe('latchkeyNode', () => {
  function setup(handler: (auth: ReturnType<typeof latchkeyNode>) => RequestListener) {
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['k'.repeat(32)],
      publicUrl: 'http://localhost',
      logger: () => undefined,
    });
    const auth = latchkeyNode(latchkey);
    const server = createServer(handler(auth));
    return { latchkey, auth, server };
  }

  async function start(server: Server): Promise<string> {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const app = (auth: ReturnType<typeof latchkeyNode>): RequestListener => {
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      if (auth.isAuthRoute(req)) return auth.routes(req, res);
      if (req.url === '/public')
        return auth.json(res, { ok: true }, { cacheControl: 'max-age=60' });
      if (req.url === '/own') {
        res.setHeader('Content-Security-Policy', "default-src 'none'");
        res.setHeader('Cache-Control', 'private, max-age=5');
        res.setHeader('Set-Cookie', 'theme=dark; Path=/');
        // Not the app's to decide: the body is Latchkey's JSON.
        res.setHeader('Content-Type', 'text/plain');
      }
      const session = await auth.requireAuth(req, res);
      if (!session) return;
      auth.json(res, { id: session.userId }, { auth: session });
    };
    return (req, res) => void handle(req, res);
  };

  it('tells the auth routes apart by basePath', () => {
    const { auth } = setup(app);
    const at = (url: string) => Object.assign(new IncomingMessage(new Socket()), { url });
    expect(auth.isAuthRoute(at('/auth'))).toBe(true);
    expect(auth.isAuthRoute(at('/auth/login'))).toBe(true);
    expect(auth.isAuthRoute(at('/auth?x=1'))).toBe(true);
    expect(auth.isAuthRoute(at('/authx'))).toBe(false);
    expect(auth.isAuthRoute(at('/api/auth/login'))).toBe(false);
    expect(auth.isAuthRoute(at('/'))).toBe(false);
  });

  it('serves the routes; requireAuth answers 401 itself; json sends no-store and the headers', async () => {
    const { latchkey, server } = setup(app);
    const base = await start(server);
    const headers = securityHeaders(latchkey.config);

    const anonymous = await fetch(`${base}/me`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: { code: 'unauthenticated', message: 'Sign in to continue.' },
    });
    expect(anonymous.headers.get('cache-control')).toBe('no-store');
    for (const [name, value] of Object.entries(headers)) {
      expect(anonymous.headers.get(name)).toBe(value);
    }

    const register = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'node@example.com', password: 'correct horse battery staple' }),
    });
    expect(register.status).toBe(201);
    const cookie = register.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.headers.get('content-type')).toBe('application/json; charset=utf-8');
    for (const [name, value] of Object.entries(headers)) {
      expect(me.headers.get(name)).toBe(value);
    }
    expect(((await me.json()) as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);

    // The CSRF header is read from Node's lower-case header names.
    const session = await fetch(`${base}/auth/session`, { headers: { cookie } });
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const refused = await fetch(`${base}/me`, { method: 'POST', headers: { cookie } });
    expect(refused.status).toBe(403);
    const accepted = await fetch(`${base}/me`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(accepted.status).toBe(200);

    const open = await fetch(`${base}/public`);
    expect(open.headers.get('cache-control')).toBe('max-age=60');
  });

  it('json sends the re-signed cookie of a rotated key', async () => {
    const store = createMemoryStore();
    const options = { store, publicUrl: 'http://localhost', logger: () => undefined };
    const before = createLatchkey({ ...options, secrets: ['o'.repeat(32)] });
    const reply = await before.handle(
      new Request('http://localhost/auth/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: 'rot@example.com',
          password: 'correct horse battery staple',
        }),
      }),
    );
    const old = reply.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const auth = latchkeyNode(
      createLatchkey({ ...options, secrets: ['n'.repeat(32), 'o'.repeat(32)] }),
    );
    const server = createServer(app(auth));
    const base = await start(server);
    const me = await fetch(`${base}/me`, { headers: { cookie: old } });
    expect(me.status).toBe(200);
    const renewed = me.headers.getSetCookie();
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatch(/^__Host-Http-session=/);
    expect(renewed[0]?.split(';')[0]).not.toBe(old);
  });

  it('keeps headers the app set first, cookies beside its own', async () => {
    const { latchkey, server } = setup(app);
    const base = await start(server);
    const own = await fetch(`${base}/own`);
    // requireAuth's 401 keeps the app's CSP and its cookie; an error is never stored.
    expect(own.status).toBe(401);
    expect(own.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(own.headers.get('cache-control')).toBe('no-store');
    expect(own.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(own.headers.getSetCookie()).toEqual(['theme=dark; Path=/']);
    expect(own.headers.get('x-frame-options')).toBe('DENY');

    const register = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'own@example.com', password: 'correct horse battery staple' }),
    });
    const cookie = register.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const me = await fetch(`${base}/own`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(me.headers.get('cache-control')).toBe('private, max-age=5');
    expect(me.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(me.headers.getSetCookie()).toEqual(['theme=dark; Path=/']);
    expect(me.headers.get('x-content-type-options')).toBe('nosniff');
    expect(latchkey.config.contentSecurityPolicy).not.toBe("default-src 'none'");
  });
});
