import type { ChildProcess } from 'node:child_process';
import {
  describeStoreFaults,
  freePort,
  killChild,
  spawnUntilReady,
  type FaultBackend,
} from '@latchkey/store-conformance';
import { createRedisStore } from '../src/index.js';

/*
 * The shared fault suite on a PRIVATE redis-server started on a free port, frozen,
 * killed and restarted there; the shared Redis is never touched. Without persistence,
 * so the restarted server is empty.
 */

const startRedis = (port: number) =>
  spawnUntilReady(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { ready: 'Ready to accept connections' },
  );

describeStoreFaults('redis (private redis-server)', {
  async start(): Promise<FaultBackend> {
    const port = await freePort();
    let server: ChildProcess | undefined = await startRedis(port);
    return {
      url: `redis://127.0.0.1:${port}`,
      freeze: () => void server?.kill('SIGSTOP'),
      resume: () => void server?.kill('SIGCONT'),
      kill: async () => {
        await killChild(server);
        server = undefined;
      },
      restart: async () => {
        server = await startRedis(port);
      },
      stop: () => killChild(server),
    };
  },
  open: (backend, onError) => createRedisStore({ url: backend.url, keyPrefix: 'fault:', onError }),
  canFreeze: true,
  canRestart: true,
  durable: false,
  reportsErrors: true,
  limits: 'command timeout 1000 ms',
  recoverWithinMs: 5000,
  restartWithinMs: 10_000,
});
