import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answeredByLatchkey, headAdditions } from './node-head.js';

const SECURE = [
  ['X-Frame-Options', 'x-frame-options', 'DENY'],
  ['X-Content-Type-Options', 'x-content-type-options', 'nosniff'],
] as const;

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A node:http server whose handler writes each answer its own way. */
async function serve(answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('headAdditions: headers merged into the head when it is written', () => {
  it('adds them to every form of writeHead, and to an implicit head', async () => {
    const forms: ((res: ServerResponse) => void)[] = [
      (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('record'),
      (res) => res.writeHead(200, ['Content-Type', 'text/plain']).end('flat'),
      (res) => res.writeHead(200, [['Content-Type', 'text/plain']] as never).end('pairs'),
      (res) => res.writeHead(200, 'Fine', { 'Content-Type': 'text/plain' }).end('message'),
      (res) => res.writeHead(200).end('none'),
      (res) => res.end('implicit'),
    ];
    for (const form of forms) {
      const base = await serve((res) => {
        const additions = headAdditions(res);
        additions.secure = SECURE;
        additions.noStore = true;
        form(res);
      });
      const response = await fetch(base);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
      await response.text();
    }
  });

  it('never over a header in the head or set on the response, in any case', async () => {
    const base = await serve((res) => {
      const additions = headAdditions(res);
      additions.secure = SECURE;
      additions.noStore = true;
      res.setHeader('x-content-type-options', 'app');
      res.writeHead(200, 'Fine', { 'x-frame-options': 'SAMEORIGIN', 'Cache-Control': 'max-age=5' });
      res.end();
    });
    const response = await fetch(base);
    expect(response.statusText).toBe('Fine');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('x-content-type-options')).toBe('app');
    expect(response.headers.get('cache-control')).toBe('max-age=5');
  });

  it('is made once per response; answeredByLatchkey takes the security headers off', async () => {
    const base = await serve((res) => {
      const first = headAdditions(res);
      expect(headAdditions(res)).toBe(first);
      first.secure = SECURE;
      answeredByLatchkey(res);
      res.writeHead(204).end();
    });
    const response = await fetch(base);
    expect(response.status).toBe(204);
    expect(response.headers.get('x-frame-options')).toBeNull();
  });
});
