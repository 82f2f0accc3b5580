import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, startTestServer, type TestServer } from './harness.js';

/*
 * The answers node:http writes itself, before any Latchkey code runs: a request line
 * it cannot parse (400) and headers over its maxHeaderSize, 16 KiB by default (431).
 * API.md: the security headers are on every response the server sends, these too.
 * Spoken over a raw TCP socket, since fetch cannot send a malformed request.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

const REQUIRED_HEADERS: Record<string, RegExp> = {
  ...SECURITY_HEADERS,
  'cache-control': /^no-store$/,
  connection: /^close$/,
  'content-type': /^application\/json(;|$)/,
};

/** Writes raw bytes and reads until the server closes the connection. */
async function rawExchange(bytes: string) {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.write(bytes);
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  expect(end, `no complete response head in ${JSON.stringify(text.slice(0, 200))}`).toBeGreaterThan(
    0,
  );
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { statusLine, headers, body: text.slice(end + 4) };
}

function expectSecuredJsonError(reply: Awaited<ReturnType<typeof rawExchange>>) {
  for (const [name, pattern] of Object.entries(REQUIRED_HEADERS)) {
    expect(reply.headers.get(name) ?? '<missing>', name).toMatch(pattern);
  }
  const maxAge = Number(
    /max-age=(\d+)/.exec(reply.headers.get('strict-transport-security') ?? '')?.[1],
  );
  expect(maxAge).toBeGreaterThanOrEqual(31_536_000);
  expect(Number(reply.headers.get('content-length'))).toBe(Buffer.byteLength(reply.body));
  expect(JSON.parse(reply.body)).toEqual({
    error: { code: 'invalid_request', message: 'The request is malformed.' },
  });
}

describe("the HTTP server's own error answers", () => {
  it('a malformed request line: 400 with the security headers and the JSON error body', async () => {
    const reply = await rawExchange('GET / HTTP/1.1 garbage\r\nHost: localhost\r\n\r\n');
    expect(reply.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expectSecuredJsonError(reply);
  });

  it('not HTTP at all: 400 with the same headers', async () => {
    const reply = await rawExchange('\x16\x03\x01 hello\r\n\r\n');
    expect(reply.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expectSecuredJsonError(reply);
  });

  it('over 20 KB of headers (above the 16 KiB limit): 431 with the same headers', async () => {
    const filler = Array.from({ length: 200 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(100)}\r\n`);
    const request = `GET /api/notes HTTP/1.1\r\nHost: localhost\r\n${filler.join('')}\r\n`;
    expect(request.length).toBeGreaterThan(20_000);
    const reply = await rawExchange(request);
    expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expectSecuredJsonError(reply);
  });

  it('one oversized cookie header: 431 with the same headers', async () => {
    const request = `GET / HTTP/1.1\r\nHost: localhost\r\nCookie: a=${'b'.repeat(20_000)}\r\n\r\n`;
    const reply = await rawExchange(request);
    expect(reply.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expectSecuredJsonError(reply);
  });

  it('the server still answers normal requests afterwards', async () => {
    const reply = await fetch(new URL('/healthz', server.url));
    expect(reply.status).toBe(200);
  });
});
