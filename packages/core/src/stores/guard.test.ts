import { describe, expect, it } from 'vitest';
import { fail, LatchkeyError } from '../errors.js';
import type { SecurityEvent } from '../log.js';
import { failClosed } from './guard.js';

const driverError = () => new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');

describe('failClosed', () => {
  it('turns a rejected call into 503 store_unavailable and logs the error by name only', async () => {
    const events: SecurityEvent[] = [];
    const backend = { read: async (_id: string) => Promise.reject(driverError()) };
    const guarded = failClosed(
      backend,
      'sessions',
      (event) => events.push(event),
      () => 0,
    );

    const refused = await guarded.read('x').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LatchkeyError);
    expect(refused).toMatchObject({ code: 'store_unavailable', status: 503 });
    expect(events).toEqual([
      {
        event: 'store_unavailable',
        operation: 'sessions.read',
        error: 'Error',
        time: '1970-01-01T00:00:00.000Z',
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });

  it('turns a synchronous throw into a rejection, never a throw at the call', async () => {
    const backend = {
      read: (): Promise<string> => {
        throw driverError();
      },
    };
    const guarded = failClosed(backend, 'users');
    const pending = guarded.read();
    await expect(pending).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('passes answers and the arguments through, and a LatchkeyError unchanged', async () => {
    const backend = {
      echo: (a: number, b: string) => Promise.resolve(`${a}:${b}`),
      limited: async () => Promise.reject(fail('rate_limited')),
    };
    const guarded = failClosed(backend, 'x');
    expect(await guarded.echo(1, 'two')).toBe('1:two');
    await expect(guarded.limited()).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it("guards a class's methods, with `this` the instance (private fields work)", async () => {
    class Backend {
      #rows = new Map([['a', 1]]);
      size = 1;
      get(id: string) {
        return Promise.resolve(this.#rows.get(id) ?? null);
      }
      broken(): Promise<number> {
        return Promise.reject(driverError());
      }
    }
    const guarded = failClosed(new Backend(), 'records');
    expect(await guarded.get('a')).toBe(1);
    expect(guarded.size).toBe(1);
    await expect(guarded.broken()).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('still guards a method replaced on the target after wrapping (a fault put in later)', async () => {
    const backend: { read: () => Promise<string> } = { read: () => Promise.resolve('ok') };
    const guarded = failClosed(backend, 'sessions');
    expect(await guarded.read()).toBe('ok');
    backend.read = () => Promise.reject(driverError());
    await expect(guarded.read()).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});
