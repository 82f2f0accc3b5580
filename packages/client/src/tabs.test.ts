/**
 * The cross-tab protocol's messages: anything can be posted on a BroadcastChannel (a bug in
 * another version of the app, a script on the page), so a message that is not well formed is
 * dropped before it reaches the client, and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, type AuthClient, type PublicUser } from './index.js';
import { parseMessage, type TabMessage } from './tabs.js';

const alice: PublicUser = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  createdAt: '2025-01-01T00:00:00.000Z',
  emailVerified: false,
  mfa: [],
};

const VALID: TabMessage[] = [
  { type: 'in' },
  { type: 'done' },
  { type: 'refreshing' },
  { type: 'out', sid: undefined },
  { type: 'out', sid: 'f1' },
  { type: 'token', token: 'a.b.c', user: alice, life: 600_000, left: 600_000 },
  { type: 'token', token: 'a.b.c', user: { ...alice, name: null }, life: 60_000, left: 1 },
];

const token = { type: 'token', token: 'x.y.z', user: alice, life: 600_000, left: 600_000 };
const MALFORMED: [string, unknown][] = [
  ['null', null],
  ['undefined', undefined],
  ['a string', 'out'],
  ['a number', 42],
  ['an array', [{ type: 'out' }]],
  ['no type', {}],
  ['an unknown type', { type: 'bogus' }],
  ['a type in the wrong case', { type: 'OUT' }],
  ['out with a null sid', { type: 'out', sid: null }],
  ['out with a number sid', { type: 'out', sid: 0 }],
  ['out with an object sid', { type: 'out', sid: { id: 'f1' } }],
  ['token without fields', { type: 'token' }],
  ['token with a number token', { ...token, token: 42 }],
  ['token with an empty token', { ...token, token: '' }],
  ['token without a user', { ...token, user: undefined }],
  ['token with a null user', { ...token, user: null }],
  ['token with a string user', { ...token, user: 'alice' }],
  ['token with a user whose id is a number', { ...token, user: { ...alice, id: 1 } }],
  ['token with a user without email', { ...token, user: { ...alice, email: undefined } }],
  ['token with a string life', { ...token, life: '600000' }],
  ['token with a NaN life', { ...token, life: Number.NaN }],
  ['token with an infinite life', { ...token, life: Infinity, left: 1000 }],
  ['token living over an hour', { ...token, life: 3_600_001, left: 1000 }],
  ['token with nothing left', { ...token, left: 0 }],
  ['token with negative time left', { ...token, left: -5 }],
  ['token with more left than its life', { ...token, left: 600_001 }],
];

describe('parseMessage', () => {
  it.each(VALID.map((m) => [JSON.stringify(m), m] as const))('keeps %s', (_name, message) => {
    expect(parseMessage(structuredClone(message))).toEqual(message);
  });

  it.each(MALFORMED)('drops %s', (_name, data) => {
    expect(parseMessage(data)).toBeUndefined();
  });

  it('keeps only the fields it knows', () => {
    const parsed = parseMessage({ ...token, extra: 'x', user: { ...alice, role: 'admin' } });
    expect(parsed).toEqual({ ...token, user: { ...alice, role: 'admin' } });
    expect(parsed).not.toHaveProperty('extra');
  });
});

/** A BroadcastChannel between the clients of one test: structured-cloned, delivered async. */
class FakeChannel {
  static open = new Set<FakeChannel>();
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(readonly name: string) {
    FakeChannel.open.add(this);
  }
  postMessage(data: unknown) {
    for (const other of FakeChannel.open) {
      if (other === this || other.name !== this.name) continue;
      const copy = structuredClone(data);
      queueMicrotask(() => other.onmessage?.({ data: copy }));
    }
  }
  close() {
    FakeChannel.open.delete(this);
  }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', Date: new Date().toUTCString() },
  });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A server in either mode; `sent` lists every request as `METHOD path [credential]`. */
function server() {
  const sent: string[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    await Promise.resolve();
    const headers = new Headers(init.headers);
    const credential = headers.get('Authorization') ?? headers.get('X-CSRF-Token') ?? '-';
    const url = input instanceof Request ? input.url : String(input);
    const route = `${init.method ?? 'GET'} ${url}`;
    sent.push(`${route} ${credential}`);
    if (route === 'POST /auth/refresh') {
      const iat = Math.floor(Date.now() / 1000);
      return json(200, {
        user: alice,
        accessToken: `${b64({ alg: 'EdDSA' })}.${b64({ sid: 'f1', iat, exp: iat + 600 })}.c2ln`,
        accessTokenExpiresAt: new Date((iat + 600) * 1000).toISOString(),
      });
    }
    if (route === 'GET /auth/session') {
      return json(200, {
        user: alice,
        session: { id: 's1', createdAt: '', expiresAt: '', idleExpiresAt: '' },
        csrfToken: 'c1',
      });
    }
    return new Response(null, { status: 204 });
  };
  return { fetch: fetch satisfies typeof globalThis.fetch, sent };
}

const clients: AuthClient[] = [];
beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2025-06-01T12:00:00.000Z') });
  FakeChannel.open.clear();
  vi.stubGlobal('BroadcastChannel', FakeChannel);
  vi.stubGlobal('navigator', {});
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe.each(['token', 'session'] as const)('%s mode: malformed messages', (mode) => {
  it('change nothing: same user, no request, the same credential on the next one', async () => {
    const api = server();
    const client = createAuthClient({ mode, fetch: api.fetch, channelName: 'app' });
    clients.push(client);
    await client.start();
    await client.fetch('/api/notes', { method: 'POST' });
    const before = [...api.sent];
    const seen: (PublicUser | null)[] = [];
    client.onChange((user) => seen.push(user));

    const rogue = new FakeChannel('app');
    for (const [, data] of MALFORMED) rogue.postMessage(data);
    // Long enough for anything they could have scheduled, short of the token's own renewal.
    await vi.advanceTimersByTimeAsync(400_000);

    expect(seen).toEqual([]);
    expect(client.getUser()).toEqual(alice);
    expect(api.sent).toEqual(before);
    await client.fetch('/api/notes', { method: 'POST' });
    expect(api.sent.at(-1)).toBe(before.at(-1));

    // The channel itself works: a well-formed message is heard.
    rogue.postMessage({ type: 'out' });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([null]);
    expect(client.getUser()).toBeNull();
  });
});
