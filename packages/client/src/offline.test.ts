import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import type { PublicUser, SessionResponse } from '@latchkey/wire';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LatchkeyError } from './errors.js';
import {
  createOfflineStore,
  lastOfflineUser,
  type OfflineEvent,
  type OfflineStore,
} from './offline.js';
import type { AuthClient } from './types.js';

interface Note {
  id: string;
  text: string;
}
type Store = OfflineStore<{ notes: Note }>;

const person = (id: string): PublicUser => ({
  id,
  email: `${id}@example.com`,
  name: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  emailVerified: true,
  mfa: [],
});

/** What the fake server knows: who its session belongs to, and what it was sent. */
interface Server {
  user: PublicUser | null;
  online: boolean;
  /** The status to answer a queued change with (per call, in order; then 201). */
  statuses: number[];
  sent: { method: string; path: string; body: unknown; csrf: string | undefined }[];
  csrfIssued: string[];
}

/** A stand-in for the client: one tab's view of the fake server's session. */
function fakeClient(server: Server, mode: 'session' | 'token' = 'session') {
  const listeners = new Set<(user: PublicUser | null) => void>();
  let user: PublicUser | null | undefined;
  let csrf: string | undefined;
  const set = (next: PublicUser | null) => {
    if (user !== undefined && user?.id === next?.id) return;
    user = next;
    for (const listener of [...listeners]) listener(next);
  };
  const offline = () => new LatchkeyError('network_error', 0, 'Could not reach the server.');
  const client = {
    mode,
    getUser: () => user,
    onChange(listener: (user: PublicUser | null) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async session(): Promise<SessionResponse | null> {
      await Promise.resolve();
      if (!server.online) throw offline();
      if (!server.user) {
        csrf = undefined;
        set(null);
        return null;
      }
      csrf = `csrf-${crypto.randomUUID()}`;
      server.csrfIssued.push(csrf);
      // A fresh object per answer, as a real client parses one from each response.
      const user = { ...server.user };
      set(user);
      return {
        user,
        session: { id: 's1', createdAt: '', expiresAt: '' },
        csrfToken: csrf,
      } as unknown as SessionResponse;
    },
    async fetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
      await Promise.resolve();
      if (!server.online) throw offline();
      const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
      const status = server.statuses.shift() ?? 201;
      if (status === 401) set(null);
      server.sent.push({ method: init.method ?? 'GET', path: input as string, body, csrf });
      const error = { error: { code: status === 400 ? 'invalid_request' : 'x', message: 'no' } };
      return Response.json(status < 300 ? { ok: true } : error, { status });
    },
  };
  return { client: client as unknown as AuthClient, set };
}

const server = (user: PublicUser | null = null): Server => ({
  user,
  online: true,
  statuses: [],
  sent: [],
  csrfIssued: [],
});

const open: Store[] = [];
let counter = 0;
/** A store on a prefix of its own, so tests never see each other's databases. */
function offlineStore(client: AuthClient, prefix: string, autoReplay = true): Store {
  const store = createOfflineStore<{ notes: Note }>(client, {
    collections: { notes: 'id' },
    prefix,
    channelName: prefix,
    autoReplay,
  });
  open.push(store);
  return store;
}
const freshPrefix = () => `test-${(counter += 1)}`;
afterEach(() => {
  for (const store of open.splice(0)) store.close();
});

const names = async (prefix: string) =>
  (await indexedDB.databases()).flatMap(({ name }) => (name?.startsWith(prefix) ? [name] : []));

/** Everything in a database, as one string. */
async function dump(name: string): Promise<string> {
  const db = await openDB(name);
  const out: unknown[] = [];
  for (const store of [...db.objectStoreNames]) out.push(store, await db.getAll(store));
  db.close();
  return JSON.stringify(out);
}

describe('the offline store', () => {
  it('keeps a user’s data in a database named by their opaque id, never a credential', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-ada'));
    const { client } = fakeClient(remote);
    const store = offlineStore(client, prefix);
    await client.session();
    await vi.waitFor(() => expect(store.user?.id).toBe('u-ada'));
    await store.replace('notes', [
      { id: 'b', text: 'second' },
      { id: 'a', text: 'first' },
    ]);
    await store.put('notes', { id: 'c', text: 'third' });
    expect(await store.all('notes')).toEqual([
      { id: 'a', text: 'first' },
      { id: 'b', text: 'second' },
      { id: 'c', text: 'third' },
    ]);
    await store.replace('notes', [{ id: 'z', text: 'only' }]);
    expect(await store.all('notes')).toEqual([{ id: 'z', text: 'only' }]);
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'later' } });

    expect(await names(prefix)).toEqual([`${prefix}:u-ada`]);
    const contents = await dump(`${prefix}:u-ada`);
    expect(contents).toContain('later');
    for (const token of remote.csrfIssued) expect(contents).not.toContain(token);
    expect(contents).not.toMatch(/csrf|authorization|bearer|cookie/i);
  });

  it('deletes the database when the client reports the user signed out', async () => {
    const prefix = freshPrefix();
    const { client, set } = fakeClient(server(person('u-1')));
    const store = offlineStore(client, prefix);
    await client.session();
    await store.put('notes', { id: 'n', text: 'private' });
    const events: OfflineEvent['type'][] = [];
    store.subscribe((event) => events.push(event.type));
    set(null);
    await vi.waitFor(async () => expect(await names(prefix)).toEqual([]));
    expect(store.user).toBeNull();
    expect(await store.all('notes')).toEqual([]);
    // Nothing recreates it: a write with nobody signed in goes nowhere.
    await store.put('notes', { id: 'm', text: 'after' });
    await expect(store.enqueue({ method: 'POST', path: '/api/notes' })).rejects.toThrow();
    expect(await names(prefix)).toEqual([]);
    expect(events).toContain('wiped');
  });

  it('deletes the first user’s data when another user signs in in the same browser', async () => {
    const prefix = freshPrefix();
    const { client, set } = fakeClient(server(person('u-a')));
    const store = offlineStore(client, prefix);
    await client.session();
    await store.put('notes', { id: 'n', text: 'A’s secret' });
    set(person('u-b'));
    await vi.waitFor(() => expect(store.user?.id).toBe('u-b'));
    expect(await store.all('notes')).toEqual([]);
    expect(await names(prefix)).toEqual([`${prefix}:u-b`]);
  });

  it('a page load that finds nobody signed in deletes any data left behind', async () => {
    const prefix = freshPrefix();
    const first = fakeClient(server(person('u-left')));
    const store = offlineStore(first.client, prefix);
    await first.client.session();
    await store.put('notes', { id: 'n', text: 'left behind' });
    store.close();
    expect(await names(prefix)).toEqual([`${prefix}:u-left`]);

    const next = fakeClient(server(null));
    offlineStore(next.client, prefix);
    await next.client.session();
    await vi.waitFor(async () => expect(await names(prefix)).toEqual([]));
  });

  it('replays the queue in order, once, after the server confirms the same user', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-q'));
    const { client } = fakeClient(remote);
    const store = offlineStore(client, prefix);
    await client.session();
    await vi.waitFor(() => expect(store.user?.id).toBe('u-q'));
    remote.online = false;
    for (const text of ['one', 'two', 'three']) {
      await store.enqueue({ method: 'POST', path: '/api/notes', body: { text } });
    }
    await store.replay(); // offline: nothing is sent, nothing is lost
    expect(await store.pending()).toHaveLength(3);

    remote.online = true;
    const sent: string[] = [];
    store.subscribe((event) => {
      if (event.type === 'sent') sent.push((event.change.body as { text: string }).text);
    });
    await Promise.all([store.replay(), store.replay()]);
    await store.replay();
    expect(remote.sent.map((s) => (s.body as { text: string }).text)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(sent).toEqual(['one', 'two', 'three']);
    expect(await store.pending()).toEqual([]);
    // Sent with the CSRF token of the session the server just confirmed, not a stored one.
    const confirmed = remote.csrfIssued.at(-1);
    expect(remote.sent.every((s) => s.csrf && remote.csrfIssued.includes(s.csrf))).toBe(true);
    expect(confirmed).toBeDefined();
  });

  it('surfaces a change the server refuses, and keeps one that failed for a passing reason', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-r'));
    const { client } = fakeClient(remote);
    // Replayed only when asked here, so each replay meets the answers set for it.
    const store = offlineStore(client, prefix, false);
    await client.session();
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'bad' } });
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'good' } });
    const refused: LatchkeyError[] = [];
    store.subscribe((event) => {
      if (event.type === 'refused') refused.push(event.error);
    });
    remote.statuses = [400, 503];
    await store.replay();
    expect(refused.map((e) => [e.status, e.code])).toEqual([[400, 'invalid_request']]);
    expect((await store.pending()).map((c) => c.body)).toEqual([{ text: 'good' }]);
    await store.replay();
    expect(await store.pending()).toEqual([]);
    expect(remote.sent.map((s) => s.body)).toEqual([
      { text: 'bad' },
      { text: 'good' },
      { text: 'good' },
    ]);
  });

  it('a session revoked while offline: nothing is replayed and the data is wiped', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-rev'));
    const { client } = fakeClient(remote);
    const store = offlineStore(client, prefix);
    await client.session();
    await vi.waitFor(() => expect(store.user?.id).toBe('u-rev'));
    remote.online = false;
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'never' } });
    remote.user = null; // revoked from another device
    remote.online = true;
    await store.replay();
    expect(remote.sent).toEqual([]);
    await vi.waitFor(async () => expect(await names(prefix)).toEqual([]));
  });

  it('does not replay one user’s queue for another user', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-one'));
    const { client } = fakeClient(remote);
    const store = offlineStore(client, prefix);
    await client.session();
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'mine' } });
    remote.online = false;
    remote.user = person('u-two');
    remote.online = true;
    await store.replay();
    expect(remote.sent).toEqual([]);
    await vi.waitFor(async () => expect(await names(prefix)).toEqual([`${prefix}:u-two`]));
    expect(await store.pending()).toEqual([]);
  });

  it('another tab’s sign-out: this tab lets go, asks the server, and recreates nothing', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-tabs'));
    const tabA = fakeClient(remote);
    const tabB = fakeClient(remote);
    const storeA = offlineStore(tabA.client, prefix);
    const storeB = offlineStore(tabB.client, prefix);
    await Promise.all([tabA.client.session(), tabB.client.session()]);
    await vi.waitFor(() => expect(storeB.user?.id).toBe('u-tabs'));
    await storeB.put('notes', { id: 'n', text: 'seen in B' });
    expect(await storeA.all('notes')).toEqual([{ id: 'n', text: 'seen in B' }]);

    remote.user = null; // the session ends; only tab A hears of it
    tabA.set(null);
    await vi.waitFor(() => expect(tabB.client.getUser()).toBeNull());
    await vi.waitFor(async () => expect(await names(prefix)).toEqual([]));
    expect(storeB.user).toBeNull();
    await storeB.put('notes', { id: 'm', text: 'late write' });
    expect(await names(prefix)).toEqual([]);
  });

  it('offline, before the client knows anyone: resumes the last user’s data and mode', async () => {
    const prefix = freshPrefix();
    const remote = server(person('u-off'));
    const before = fakeClient(remote, 'token');
    const first = offlineStore(before.client, prefix);
    await before.client.session();
    await first.replace('notes', [{ id: 'n', text: 'seen online' }]);
    first.close();

    remote.online = false; // the page reloads offline: the client cannot ask anyone
    expect(await lastOfflineUser(prefix)).toMatchObject({ user: { id: 'u-off' }, mode: 'token' });
    const after = fakeClient(remote, 'token');
    const store = offlineStore(after.client, prefix);
    expect(await store.resume()).toMatchObject({ user: { id: 'u-off' } });
    expect(await store.all('notes')).toEqual([{ id: 'n', text: 'seen online' }]);
    await store.enqueue({ method: 'POST', path: '/api/notes', body: { text: 'offline' } });

    remote.online = true; // the same user is confirmed: the queue goes
    await after.client.session();
    await vi.waitFor(() => expect(remote.sent.map((s) => s.body)).toEqual([{ text: 'offline' }]));
  });

  it('queues only changes to the server’s own origin, and no reserved collection', async () => {
    const prefix = freshPrefix();
    const { client } = fakeClient(server(null));
    const store = offlineStore(client, prefix);
    for (const path of ['https://evil.example/x', '//evil.example/x', '/\\evil.example', 'api']) {
      await expect(store.enqueue({ method: 'POST', path })).rejects.toThrow(TypeError);
    }
    expect(() =>
      createOfflineStore<{ '~queue': Note }>(client, { collections: { '~queue': 'id' } }),
    ).toThrow(TypeError);
  });
});
