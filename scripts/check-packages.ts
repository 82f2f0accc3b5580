// `npm run check:packages`: packs every published package and lints the tarball, as npm
// would publish it, with publint (strict: warnings fail) and Are the Types Wrong (the
// `esm-only` profile: the packages are ESM only, so CommonJS `require` and the pre-exports
// `node10` resolution are out of scope). Also: the LICENSE is the workspace's, README.md
// and LICENSE ship, and no test, build-info or source-condition leftovers do.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import {
  npmEnv,
  packAll,
  publicPackages,
  ROOT,
  SOURCE_CONDITION,
  tarballFiles,
  type PublicPackage,
} from './packages.js';

const run = promisify(execFile);
const LICENSE = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

/** What is wrong with one package, as lines for the report; empty when it passes. */
async function check(pkg: PublicPackage, tarball: string | undefined): Promise<string[]> {
  if (!tarball) return ['npm pack wrote no tarball'];
  const problems: string[] = [];
  const files = new Set(tarballFiles(tarball));

  for (const required of ['package.json', 'README.md', 'LICENSE']) {
    if (!files.has(required)) problems.push(`the tarball has no ${required}`);
  }
  const license = join(ROOT, pkg.dir, 'LICENSE');
  if (!existsSync(license) || readFileSync(license, 'utf8') !== LICENSE) {
    problems.push(`${pkg.dir}/LICENSE differs from the workspace's LICENSE`);
  }
  for (const file of files) {
    if (/\.test\.[cm]?[jt]s$|\.tsbuildinfo$|(^|\/)test-fixtures\//.test(file)) {
      problems.push(`ships ${file}`);
    }
  }
  // Every entry point: the source condition first (workspace only), then types, then JS.
  for (const [subpath, target] of Object.entries(pkg.manifest.exports ?? {})) {
    if (subpath === './package.json') continue;
    const keys = typeof target === 'string' ? [] : Object.keys(target);
    if (keys.join(',') !== `${SOURCE_CONDITION},types,default`) {
      problems.push(
        `exports["${subpath}"] should be { "${SOURCE_CONDITION}": src, types: .d.ts, default: .js }, is ${JSON.stringify(target)}`,
      );
    }
  }

  const lint = await publint({
    pack: { tarball: new Uint8Array(readFileSync(tarball)).buffer },
    strict: true,
  });
  for (const message of lint.messages) {
    problems.push(`publint ${message.type}: ${formatMessage(message, lint.pkg) ?? message.code}`);
  }

  const attw = await run(
    join(ROOT, 'node_modules/.bin/attw'),
    [tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'table', '--no-color'],
    { env: npmEnv() },
  ).then(
    () => null,
    (error: unknown) => {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      return `${stdout ?? ''}${stderr ?? ''}`;
    },
  );
  if (attw !== null) problems.push(`attw:\n${attw.trim()}`);
  return problems;
}

const packages = publicPackages();
const destination = mkdtempSync(join(tmpdir(), 'latchkey-check-packages-'));
try {
  const started = Date.now();
  const tarballs = packAll(packages, destination);
  // Two at a time: attw and publint each take a core while they run.
  const results: { pkg: PublicPackage; problems: string[] }[] = [];
  const queue = [...packages];
  await Promise.all(
    [0, 1].map(async () => {
      for (let pkg = queue.shift(); pkg; pkg = queue.shift()) {
        results.push({ pkg, problems: await check(pkg, tarballs.get(pkg.name)) });
      }
    }),
  );
  let failed = 0;
  for (const { pkg, problems } of results.sort((a, b) => a.pkg.name.localeCompare(b.pkg.name))) {
    if (problems.length === 0) {
      console.log(`ok   ${pkg.name}`);
      continue;
    }
    failed += 1;
    console.log(`FAIL ${pkg.name}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `check:packages: ${packages.length - failed}/${packages.length} packages pass (${seconds} s)`,
  );
  if (failed > 0) process.exitCode = 1;
} finally {
  rmSync(destination, { recursive: true, force: true });
}
