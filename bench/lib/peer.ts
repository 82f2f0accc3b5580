/**
 * Loads a dependency of bench/ only (installed into bench/node_modules by `npm run bench`).
 * The import is untyped on purpose: the root `npm run typecheck` includes bench/ and must
 * pass on a checkout where bench/node_modules was never installed (CI). Latchkey itself
 * is imported by relative path, with its types.
 */
export function peer(name: string): Promise<any> {
  return import(name);
}
