import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';
import { serviceWorker } from './sw-plugin.js';

// The reference SPA. The server serves the build from apps/reference/dist under a strict
// CSP (script-src 'self'; style-src 'self'), so the output must contain no inline script
// or style: the module-preload polyfill (an inline script) is off, and no asset is
// inlined as a data: URL.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // dist/sw.js: the service worker, with the list of shell files and a version for this build.
  plugins: [serviceWorker()],
  // The workspace packages (@latchkey/client, @latchkey/core/strength) from their TypeScript
  // source, so the SPA builds without building the packages first.
  resolve: { conditions: ['@latchkey/source', ...defaultClientConditions] },
  // The strength worker loads its dictionaries with dynamic imports (chunks), which
  // needs a module worker.
  worker: { format: 'es' },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});
