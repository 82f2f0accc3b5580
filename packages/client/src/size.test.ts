/**
 * Size budgets, one per entry point an app can import, each measured on what a bundler
 * ships: everything the entry pulls in (its dependencies included), minified (esbuild),
 * gzipped at level 9. A separate entry costs an app that does not import it nothing.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function measureBundle(
  entry: string,
): Promise<{ text: string; minified: number; gzipped: number }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // @latchkey/wire from its source, as the workspace resolves it (no build needed).
    conditions: ['@latchkey/source'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    text: new TextDecoder().decode(code),
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
  };
}

const ENTRIES = [
  {
    name: '@latchkey/client',
    entry: './index.ts',
    budget: 5 * 1024,
    // Browser-only: nothing from Node may slip into the bundle.
    foreign: /node:|require\(/,
    contains: 'fetch',
  },
  {
    name: '@latchkey/client/offline',
    entry: './offline.ts',
    budget: 4 * 1024,
    // It really contains idb (not an external import left for the app to pay).
    foreign: /node:|require\(|from ?"idb"/,
    contains: 'indexedDB',
  },
  {
    name: '@latchkey/client/passkeys',
    entry: './passkeys.ts',
    budget: 4 * 1024,
    // It really contains the WebAuthn calls (not an import of @simplewebauthn left over).
    foreign: /node:|require\(|from ?"@simplewebauthn/,
    contains: 'navigator.credentials',
  },
];

describe('bundle size budgets (min+gzip)', () => {
  for (const { name, entry, budget, foreign, contains } of ENTRIES) {
    it(`${name} bundles to at most ${budget / 1024} KB, browser code only`, async () => {
      const { text, minified, gzipped } = await measureBundle(entry);
      console.log(
        `${name}: ${minified} bytes minified, ${gzipped} bytes min+gzip (budget ${budget})`,
      );
      expect(text).not.toMatch(foreign);
      expect(text).toContain(contains);
      expect(gzipped).toBeLessThanOrEqual(budget);
    });
  }
});
