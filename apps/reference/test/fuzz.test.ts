import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, registered, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '1000' });
});
afterAll(() => server.dispose());

// A small seeded PRNG so a failure can be replayed with the same seed.
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzing the HTTP surface', () => {
  it('a few thousand random requests never get a 5xx and the server stays up', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261122);
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const { agent } = await registered(server.url);
    const token = await agent.refreshCsrf();
    const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

    const paths = [
      '/auth/register',
      '/auth/login',
      '/auth/logout',
      '/auth/session',
      '/auth/sessions',
      '/auth/sessions/abc',
      '/auth/password',
      '/api/notes',
      '/api/notes/x',
      '/healthz',
      '/auth/%00',
      '/auth/../etc/passwd',
      '/auth/sessions/' + 'a'.repeat(300),
    ];
    const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'];
    const types = [
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      '',
      'application/JSON',
      'application/json;;;',
    ];
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      '',
      'x'.repeat(300),
      '\u0000',
      '😀',
      [],
      {},
      { $gt: '' },
      'a@b.co',
    ];
    const bodies = (): string => {
      switch (Math.floor(random() * 6)) {
        case 0:
          return '';
        case 1:
          return '{"email":' + '['.repeat(Math.floor(random() * 5000));
        case 2:
          return Array.from({ length: Math.floor(random() * 64) }, () =>
            String.fromCharCode(Math.floor(random() * 0xffff)),
          ).join('');
        case 3:
          return JSON.stringify({
            email: pick(values),
            password: pick(values),
            name: pick(values),
            text: pick(values),
          });
        case 4:
          return JSON.stringify({
            __proto__: { admin: true },
            constructor: { prototype: {} },
            currentPassword: pick(values),
            newPassword: pick(values),
          });
        default:
          return JSON.stringify(pick(values));
      }
    };
    const cookies = [
      cookie,
      '',
      '__Host-Http-session=' + 'A'.repeat(108),
      '__Host-Http-session=..',
      ';;=;',
      cookie + '; ' + cookie,
    ];

    const statuses = new Map<number, number>();
    const total = 3000;
    for (let i = 0; i < total; i += 25) {
      const batch = Array.from({ length: 25 }, async () => {
        const headers: Record<string, string> = {};
        const type = pick(types);
        if (type) headers['content-type'] = type;
        const c = pick(cookies);
        if (c) headers.cookie = c;
        if (random() < 0.5) headers['x-csrf-token'] = random() < 0.5 ? token : 'junk';
        if (random() < 0.2) headers.origin = pick(['null', 'https://evil.example', server.url]);
        if (random() < 0.2)
          headers['sec-fetch-site'] = pick(['cross-site', 'same-origin', 'none', 'bogus']);
        const method = pick(methods);
        const hasBody = !['GET', 'HEAD'].includes(method);
        const response = await fetch(server.url + pick(paths), {
          method,
          headers,
          ...(hasBody ? { body: bodies() } : {}),
        });
        await response.arrayBuffer();
        return response.status;
      });
      for (const status of await Promise.all(batch))
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const serverErrors = [...statuses].filter(([status]) => status >= 500);
    expect(serverErrors, `seed ${seed}: ${JSON.stringify([...statuses])}`).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(total);
    // Still serving: healthy, and a new user can sign up and use the API.
    expect((await new Agent(server.url).request('GET', '/healthz')).status).toBe(200);
    const fresh = await registered(server.url);
    expect((await fresh.agent.unsafe('POST', '/api/notes', { text: 'still here' })).status).toBe(
      201,
    );
  });
});
