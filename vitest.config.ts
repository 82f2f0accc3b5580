import { configDefaults, defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source, not dist/: the "@latchkey/source"
// export condition, for the Vite resolver and for Node in the test workers (Vitest passes
// ssr.resolve.conditions on as --conditions).
const SOURCE = ['@latchkey/source'];
const source = { resolve: { conditions: SOURCE }, ssr: { resolve: { conditions: SOURCE } } };

// Three projects so a developer can run the fast ones alone; `npm test` runs all.
export default defineConfig({
  test: {
    projects: [
      {
        ...source,
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'apps/*/web/**/*.test.ts',
            // In-process contract suites: no server, no database, seconds to run.
            'packages/*/test/contract/**/*.test.ts',
          ],
        },
      },
      {
        ...source,
        test: {
          name: 'integration',
          include: [
            'packages/*/test/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            // The runnable examples, over HTTP (their server.ts on SQLite, in a child process).
            'examples/**/*.test.ts',
          ],
          exclude: [
            ...configDefaults.exclude,
            'packages/*/test/contract/**',
            'packages/*/test/topologies/**',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        ...source,
        test: {
          // Redis Cluster and Sentinel on private redis-server processes, primaries killed
          // under traffic (`npm run test:cluster`, 1-2 minutes): one file at a time,
          // so the failovers do not compete for CPU.
          name: 'cluster',
          include: ['packages/*/test/topologies/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
      {
        ...source,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        ...source,
        test: {
          // The packed packages installed outside the workspace (consumer/consumer.test.ts).
          name: 'consumer',
          include: ['consumer/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
