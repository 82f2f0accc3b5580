import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createStrengthChecker,
  type StrengthAnswer,
  type StrengthRequest,
  type StrengthWorker,
} from './strength.js';

/** The real worker module, loaded with its globals (`addEventListener`, `postMessage`) faked. */
let measure: (request: StrengthRequest) => Promise<StrengthAnswer>;

beforeAll(async () => {
  let onMessage: ((event: { data: StrengthRequest }) => void) | undefined;
  vi.stubGlobal('addEventListener', (type: string, listener: typeof onMessage) => {
    if (type === 'message') onMessage = listener;
  });
  await import('./strength.worker.js');
  vi.unstubAllGlobals();
  measure = async (request) => {
    const reply = new Promise<StrengthAnswer>((resolve, reject) => {
      vi.stubGlobal('postMessage', resolve);
      setTimeout(() => reject(new Error('the worker did not answer')), 4000);
    });
    try {
      onMessage?.({ data: request });
      return await reply;
    } finally {
      vi.unstubAllGlobals();
    }
  };
});

/** A worker that answers only when told to, through the real worker module. */
class FakeWorker implements StrengthWorker {
  posted: StrengthRequest[] = [];
  terminated = false;
  private answered = 0;
  private readonly onMessage: ((event: MessageEvent<StrengthAnswer>) => void)[] = [];
  private readonly onError: ((event: Event) => void)[] = [];

  addEventListener(type: 'message', listener: (event: MessageEvent<StrengthAnswer>) => void): void;
  addEventListener(type: 'error', listener: (event: Event) => void): void;
  addEventListener(type: 'message' | 'error', listener: (event: any) => void) {
    if (type === 'message') this.onMessage.push(listener);
    else this.onError.push(listener);
  }
  postMessage(message: StrengthRequest) {
    this.posted.push(message);
  }
  /** Measures the oldest request not yet answered and delivers the answer. */
  async answer() {
    const request = this.posted[this.answered];
    if (!request) throw new Error('nothing to answer');
    this.answered += 1;
    const data = await measure(request);
    for (const listener of this.onMessage) listener({ data } as MessageEvent<StrengthAnswer>);
  }
  crash() {
    for (const listener of this.onError) listener(new Event('error'));
  }
  terminate() {
    this.terminated = true;
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const who = { email: 'ada.lovelace@example.org', name: 'Ada Lovelace' };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the worker (the server’s own rule)', () => {
  it('refuses short, repeated and personal passwords with a reason, and accepts a passphrase', async () => {
    const verdict = async (password: string) =>
      (await measure({ id: 1, password, ...who })).verdict;
    expect(await verdict('short')).toMatchObject({ ok: false, problem: 'too_short' });
    expect(await verdict('aaaaaaaaaaaaaaaaaaaa')).toMatchObject({
      ok: false,
      problem: 'weak',
      message: expect.stringContaining('Repeated characters like "aaa"'),
    });
    expect(await verdict('x'.repeat(129))).toMatchObject({ ok: false, problem: 'too_long' });
    expect(await verdict('my name is ada.lovelace!')).toMatchObject({ ok: false });
    // The name, the email's words and the site's name count as easy words.
    expect(await verdict('LovelaceLatchkey')).toMatchObject({
      ok: false,
      problem: 'weak',
      message: expect.stringContaining('personal or page related'),
    });
    expect(await verdict('a fresh passphrase for today')).toMatchObject({ ok: true });
  });
});

describe('createStrengthChecker', () => {
  it('starts no worker until asked, then one for every check', async () => {
    const workers: FakeWorker[] = [];
    const spawn = vi.fn(() => {
      const worker = new FakeWorker();
      workers.push(worker);
      return worker;
    });
    const checker = createStrengthChecker(spawn);
    expect(spawn).not.toHaveBeenCalled();
    checker.warm();
    const first = checker.check({ password: 'aaaaaaaaaaaaaaaaaaaa', ...who });
    await workers[0]?.answer();
    await expect(first).resolves.toMatchObject({ ok: false, problem: 'weak' });
    const second = checker.check({ password: 'a fresh passphrase for today', ...who });
    await workers[0]?.answer();
    await expect(second).resolves.toMatchObject({ ok: true });
    expect(spawn).toHaveBeenCalledTimes(1);
  });

  it('keeps one request in flight; only the latest input is answered', async () => {
    const worker = new FakeWorker();
    const checker = createStrengthChecker(() => worker);
    const a = checker.check({ password: 'correct', ...who });
    const b = checker.check({ password: 'correct horse', ...who });
    const c = checker.check({ password: 'correct horse battery staple', ...who });
    expect(worker.posted.map((p) => p.password)).toEqual(['correct']);
    await expect(b).resolves.toBeUndefined(); // replaced while it waited
    await worker.answer();
    await expect(a).resolves.toBeUndefined(); // answered, but newer input was waiting
    expect(worker.posted.map((p) => p.password)).toEqual([
      'correct',
      'correct horse battery staple',
    ]);
    await worker.answer();
    await expect(c).resolves.toMatchObject({ ok: true });
  });

  it('a worker that fails (blocked, offline) rejects, and is not restarted on every keystroke', async () => {
    const spawn = vi.fn(() => new FakeWorker());
    const checker = createStrengthChecker(spawn);
    const pending = checker.check({ password: 'whatever it is', ...who });
    const worker = spawn.mock.results[0]?.value as FakeWorker;
    worker.crash();
    await expect(pending).rejects.toThrow(/worker/);
    await expect(checker.check({ password: 'again', ...who })).rejects.toThrow();
    expect(spawn).toHaveBeenCalledTimes(1);
    expect(worker.terminated).toBe(true);
    await flush();
  });

  it('no Worker at all: checks reject', async () => {
    const checker = createStrengthChecker(() => {
      throw new ReferenceError('Worker is not defined');
    });
    await expect(checker.check({ password: 'x', ...who })).rejects.toThrow(/Worker/);
  });
});
