#!/usr/bin/env node
// The `latchkey` command. Inside the workspace (a checkout: it has the package's
// tsconfig.build.json, which the published tarball does not) it runs the TypeScript
// source: the workspace packages resolve through their "@latchkey/source" export
// condition (as `npm run dev` and the tests do) and tsx compiles on the fly. A published
// install runs the compiled dist/main.js, with no TypeScript loader.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

let main;
if (existsSync(new URL('../tsconfig.build.json', import.meta.url))) {
  const SOURCE_CONDITION =
    'export async function resolve(specifier, context, next) {' +
    " return next(specifier, { ...context, conditions: [...context.conditions, '@latchkey/source'] }); }";
  register(`data:text/javascript,${encodeURIComponent(SOURCE_CONDITION)}`);
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  ({ main } = await import('../src/main.ts'));
} else {
  ({ main } = await import('../dist/main.js'));
}
process.exitCode = await main(process.argv.slice(2), process.env);
