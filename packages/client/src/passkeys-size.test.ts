import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

/**
 * The budget for `@latchkey/client/passkeys` (everything `passkeys.ts` pulls in,
 * `@simplewebauthn/browser` included), minified and gzipped. A separate entry: an app that
 * does not import it pays nothing, and the core client's own budget is untouched.
 */
const BUDGET = 4 * 1024;

it('the passkeys entry bundles to at most 4 KB min+gzip, @simplewebauthn/browser included', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./passkeys.ts', import.meta.url))],
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
    `@latchkey/client/passkeys: ${code.length} bytes minified, ${gzipped} bytes min+gzip (budget ${BUDGET})`,
  );
  const text = new TextDecoder().decode(code);
  // Browser-only, and it really contains the WebAuthn calls (not an import left for the app).
  expect(text).not.toMatch(/node:|require\(|from ?"@simplewebauthn/);
  expect(text).toContain('navigator.credentials');
  expect(gzipped).toBeLessThanOrEqual(BUDGET);
});
