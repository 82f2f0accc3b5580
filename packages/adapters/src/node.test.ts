import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createLatchkey, securityHeaders } from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { describe, expect, it } from 'vitest';
import { answerClientErrors, toNodeListener } from './node.js';

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
