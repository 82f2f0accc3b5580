// The workspace's published packages and their tarballs, for `npm run check:packages` and
// the consumer test (consumer/consumer.test.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** The export condition that points a workspace package at its TypeScript source. */
export const SOURCE_CONDITION = '@latchkey/source';

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, string | Record<string, string>>;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface PublicPackage {
  name: string;
  /** Folder under the workspace root, e.g. `packages/core`. */
  dir: string;
  manifest: Manifest;
  /** What `npm pack` names the tarball: `latchkey-core-0.1.0.tgz`. */
  tarball: string;
}

/** Every packages/* whose package.json is not `private`, sorted by name. */
export function publicPackages(): PublicPackage[] {
  return readdirSync(join(ROOT, 'packages'))
    .map((folder) => join('packages', folder))
    .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(
        readFileSync(join(ROOT, dir, 'package.json'), 'utf8'),
      ) as Manifest;
      const tarball = `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
      return { name: manifest.name, dir, manifest, tarball };
    })
    .filter((pkg) => pkg.manifest.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * `npm pack`s the packages into `destination` and returns each tarball's path. Their
 * dist/ is brought up to date first by one `tsc -b` over all of them (incremental), the
 * same build each package's `prepack` runs, so npm is told to skip those scripts: one
 * compiler start instead of one per package.
 */
export function packAll(packages: PublicPackage[], destination: string): Map<string, string> {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-b',
      ...packages.map((pkg) => join(pkg.dir, 'tsconfig.build.json')),
    ],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  execFileSync(
    'npm',
    [
      'pack',
      '--ignore-scripts',
      '--pack-destination',
      destination,
      ...packages.flatMap((pkg) => ['--workspace', pkg.dir]),
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: npmEnv() },
  );
  return new Map(
    packages.map((pkg) => {
      const file = join(destination, pkg.tarball);
      if (!existsSync(file)) throw new Error(`npm pack wrote no ${pkg.tarball}`);
      return [pkg.name, file];
    }),
  );
}

/** The files in a tarball, without npm's `package/` prefix. */
export function tarballFiles(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/^package\//, ''));
}

/**
 * The environment for a nested npm or node: without what an enclosing `npm run` set for
 * its own package (npm_package_*, npm_lifecycle_*, npm_config_* from the command line), so
 * the nested command reads only the user's npm configuration; and without NODE_OPTIONS, so
 * no loader or export condition leaks in.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|.*proxy|strict_ssl|cafile)$/i;
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        key !== 'NODE_OPTIONS' && key !== 'INIT_CWD' && (!/^npm_/i.test(key) || keep.test(key)),
    ),
  );
}
