import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Agent, registered, SECURITY_HEADERS, startTestServer } from './harness.js';

function expectSecurityHeaders(headers: Headers) {
  for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) {
    expect(headers.get(name), name).toMatch(pattern);
  }
}

/** A raw connection, to send a request in pieces and to see when the server closes it. */
async function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    socket,
    closed,
    received: () => received,
    /** Resolves with the raw text of the first complete answer (head and body). */
    async answer(): Promise<string> {
      for (;;) {
        const end = received.indexOf('\r\n\r\n');
        if (end !== -1) {
          const length = /content-length: (\d+)/i.exec(received.slice(0, end));
          if (received.length >= end + 4 + Number(length?.[1] ?? 0)) return received;
        }
        await new Promise<void>((resolve, reject) => {
          socket.once('data', () => resolve());
          socket.once('close', () =>
            reject(new Error(`closed after: ${JSON.stringify(received)}`)),
          );
        });
      }
    },
  };
}

describe('health and readiness (API.md Operations)', () => {
  it('/healthz and /readyz: 200 {status:"ok"} with the security headers; 503 when the store is down', async () => {
    await using server = await startTestServer();
    const agent = new Agent(server.url);
    for (const path of ['/healthz', '/readyz']) {
      const reply = await agent.request('GET', path);
      expect(reply.status, path).toBe(200);
      expect(reply.json).toEqual({ status: 'ok' });
      expectSecurityHeaders(reply.headers);
    }
    await server.store.close();
    for (const path of ['/healthz', '/readyz']) {
      const reply = await agent.request('GET', path);
      expect(reply.status, path).toBe(503);
      expect(reply.json.error.code).toBe('store_unavailable');
      expectSecurityHeaders(reply.headers);
    }
  });

  it('draining: /readyz 503, answers in flight finish with Connection: close, idle keep-alive connections are closed', async () => {
    await using server = await startTestServer();
    const { agent } = await registered(server.url);
    const csrf = await agent.refreshCsrf();
    const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

    // An idle keep-alive connection that has been served once.
    const idle = await rawConnection(server.port);
    idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n`);
    expect(await idle.answer()).toMatch(/^HTTP\/1\.1 200/);

    // A write whose body is half sent, and a readiness probe whose headers are half sent.
    const body = JSON.stringify({ text: 'finished while draining' });
    const upload = await rawConnection(server.port);
    upload.socket.write(
      `POST /api/notes HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCookie: ${cookie}\r\nX-CSRF-Token: ${csrf}\r\n\r\n` +
        body.slice(0, 10),
    );
    const probe = await rawConnection(server.port);
    probe.socket.write(`GET /readyz HTTP/1.1\r\nHost: test\r\n`);
    // Both are read by the server before it starts draining.
    await new Promise((resolve) => setImmediate(resolve));
    while (server.inFlight() < 1) await new Promise((resolve) => setImmediate(resolve));

    const closing = server.close();
    await idle.closed; // closed by the server, with nothing sent on it
    expect(idle.received()).not.toMatch(/HTTP\/1\.1 .*HTTP\/1\.1/s);

    probe.socket.write('\r\n');
    const ready = await probe.answer();
    expect(ready).toMatch(/^HTTP\/1\.1 503/);
    expect(ready).toMatch(/\r\nconnection: close\r\n/i);
    expect(ready).toMatch(/\r\nx-frame-options: DENY\r\n/i);
    expect(ready).toMatch(/\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i);
    expect(ready.slice(ready.indexOf('\r\n\r\n') + 4)).toBe('{"status":"draining"}');
    await probe.closed;

    upload.socket.write(body.slice(10));
    const written = await upload.answer();
    expect(written).toMatch(/^HTTP\/1\.1 201/);
    expect(written).toMatch(/\r\nconnection: close\r\n/i);
    await upload.closed;

    const report = await closing;
    expect(report).toMatchObject({ inFlight: 1, cut: 0 });
    expect(report.answered).toBe(2);
    // Stopped listening: a new connection is refused.
    await expect(rawConnection(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
