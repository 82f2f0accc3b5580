import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ROOT } from './proc.js';

export type ClientSize =
  | { id: string; label: string; entry: string; minified: number; gzipped: number }
  | { id: string; label: string; entry: string; skipped: string };

const BENCH = `${ROOT}bench`;

/** Each entry is what an app would import, bundled for the browser, minified, then gzip -9. */
const CLIENTS = [
  {
    id: 'latchkey',
    label: '@latchkey/client (all of index.ts)',
    entry: 'packages/client/src/index.ts',
    file: `${ROOT}packages/client/src/index.ts`,
  },
  {
    id: 'better-auth',
    label: 'better-auth/client (createAuthClient)',
    entry: "import { createAuthClient } from 'better-auth/client'",
    contents: `import { createAuthClient } from 'better-auth/client';
export const authClient = createAuthClient({ baseURL: 'http://localhost:3000' });`,
  },
  {
    id: 'supertokens',
    label: 'supertokens-web-js (init + session + emailpassword)',
    entry: 'supertokens-web-js, recipe/session, recipe/emailpassword',
    contents: `import SuperTokens from 'supertokens-web-js';
import Session from 'supertokens-web-js/recipe/session';
import EmailPassword from 'supertokens-web-js/recipe/emailpassword';
SuperTokens.init({
  appInfo: { appName: 'app', apiDomain: 'http://localhost:3000', apiBasePath: '/auth' },
  recipeList: [Session.init(), EmailPassword.init()],
});
export { Session, EmailPassword };`,
  },
] as const;

export async function clientSizes(): Promise<ClientSize[]> {
  const results: ClientSize[] = [];
  for (const client of CLIENTS) {
    const base = { id: client.id, label: client.label, entry: client.entry };
    try {
      if ('file' in client && !existsSync(client.file))
        throw new Error(`${client.entry} is missing`);
      const output = await build({
        ...('file' in client
          ? { entryPoints: [client.file] }
          : { stdin: { contents: client.contents, resolveDir: BENCH, loader: 'js' as const } }),
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        // The workspace packages from their source (no build needed).
        conditions: ['@latchkey/source'],
        write: false,
        logLevel: 'silent',
      });
      const code = output.outputFiles[0]?.contents ?? new Uint8Array();
      results.push({
        ...base,
        minified: code.length,
        gzipped: gzipSync(code, { level: 9 }).length,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      results.push({ ...base, skipped: `does not bundle here: ${message}` });
    }
  }
  return results;
}
