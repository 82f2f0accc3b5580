import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLatchkey } from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { describe, expect, it } from 'vitest';
import { toNodeListener } from './node.js';

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
