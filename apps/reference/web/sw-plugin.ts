import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformWithEsbuild, type Plugin, type ResolvedConfig, type Rollup } from 'vite';

const SOURCE = fileURLToPath(new URL('./sw.ts', import.meta.url));

/**
 * Emits dist/sw.js from `sw.ts` at build time: `SHELL` is index.html (as `/`) and every file it
 * loads (the entry chunk, its static imports and CSS, which Vite lists in index.html as script,
 * modulepreload and stylesheet links, plus the icon from public/), followed through static and
 * dynamic imports; `VERSION` is a hash of the paths and contents of exactly those files, so any
 * change to the shell makes a new worker, which precaches the new shell and drops the old cache.
 * The password-strength worker and its dictionaries are not part of the shell.
 */
export function serviceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'latchkey-service-worker',
    apply: 'build',
    configResolved(resolved) {
      config = resolved;
    },
    generateBundle: {
      order: 'post',
      async handler(_options, bundle) {
        const html = bundle['index.html'];
        if (html?.type !== 'asset') return;
        const shell = new Map<string, string | Uint8Array>([['/', html.source]]);
        const add = async (file: string): Promise<void> => {
          if (shell.has(`/${file}`)) return;
          const out: Rollup.OutputChunk | Rollup.OutputAsset | undefined = bundle[file];
          if (!out) {
            shell.set(`/${file}`, await readFile(join(config.publicDir, file)));
          } else if (out.type === 'asset') {
            shell.set(`/${file}`, out.source);
          } else {
            shell.set(`/${file}`, out.code);
            for (const next of [...out.imports, ...out.dynamicImports]) await add(next);
            for (const css of out.viteMetadata?.importedCss ?? []) await add(css);
          }
        };
        for (const [, path] of String(html.source).matchAll(/(?:src|href)="\/([^"]+)"/g)) {
          if (path) await add(path);
        }
        const hash = createHash('sha256');
        for (const [path, content] of [...shell].sort(([a], [b]) => (a < b ? -1 : 1))) {
          hash.update(`${path}\0`).update(content).update('\0');
        }
        const { code } = await transformWithEsbuild(await readFile(SOURCE, 'utf8'), SOURCE, {
          define: {
            SHELL: JSON.stringify([...shell.keys()]),
            VERSION: JSON.stringify(hash.digest('hex').slice(0, 16)),
          },
        });
        this.emitFile({ type: 'asset', fileName: 'sw.js', source: code });
      },
    },
  };
}
