import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

/** The budget for the core client (everything `index.ts` pulls in), minified and gzipped. */
const BUDGET = 5 * 1024;

it('the core client bundles to at most 5 KB min+gzip', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
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
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(
    `@latchkey/client: ${code.length} bytes minified, ${gzipped} bytes min+gzip (budget ${BUDGET})`,
  );
  // Browser-only: nothing from Node may slip into the bundle.
  expect(new TextDecoder().decode(code)).not.toMatch(/node:|require\(/);
  expect(gzipped).toBeLessThanOrEqual(BUDGET);
});
