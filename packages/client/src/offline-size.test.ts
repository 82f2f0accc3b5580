import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

/**
 * The budget for `@latchkey/client/offline` (everything `offline.ts` pulls in, `idb` included),
 * minified and gzipped. It is a separate entry: an app that does not import it pays nothing.
 */
const BUDGET = 4 * 1024;

it('the offline entry bundles to at most 4 KB min+gzip, idb included', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./offline.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@latchkey/source'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(
    `@latchkey/client/offline: ${code.length} bytes minified, ${gzipped} bytes min+gzip (budget ${BUDGET})`,
  );
  const text = new TextDecoder().decode(code);
  // Browser-only, and it really contains idb (not an external import left for the app to pay).
  expect(text).not.toMatch(/node:|require\(|from ?"idb"/);
  expect(text).toContain('indexedDB');
  expect(gzipped).toBeLessThanOrEqual(BUDGET);
});
