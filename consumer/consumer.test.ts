/**
 * The published packages as a consumer gets them. Every public package is `npm pack`ed
 * and the tarballs are installed into a scratch project in the system's temp folder,
 * outside the workspace (so nothing resolves to the workspace's own node_modules or
 * src/). Then, in that project:
 *
 * - plain Node (no tsx, no export condition, and a hook that fails any import resolving
 *   to a .ts file) imports every entry point: each resolves to a `dist/*.js` inside the
 *   installed tarball and exports the same names as its source;
 * - a plain-JavaScript server mounts Latchkey on node:http with the SQLite store; over
 *   real HTTP it registers, signs in with `POST /auth/login` and reads a protected route
 *   with the session cookie;
 * - the `latchkey` command runs;
 * - TypeScript (`module`/`moduleResolution` nodenext, strict, `skipLibCheck: false`, so
 *   the shipped .d.ts files are checked too) compiles an import of every entry point and
 *   typed usage, once as server code (Node types) and once as browser code (DOM, no Node).
 *
 * A missing export or dist file, a broken .d.ts, a .d.ts that needs a package the
 * consumer does not get, or an entry point that resolves to .ts fails it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmEnv, packAll, publicPackages, ROOT, type PublicPackage } from '../scripts/packages.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
/** Node for the scratch project's scripts: any import that resolves to a .ts file fails. */
const PLAIN_NODE = ['--import', './no-typescript.mjs'];

/**
 * Entry points that must exist whatever the package.json files say (a subpath dropped
 * from an `exports` map would otherwise just drop out of this test too).
 */
const REQUIRED = [
  '@latchkey/adapters/express',
  '@latchkey/adapters/fastify',
  '@latchkey/adapters/hono',
  '@latchkey/adapters/node',
  '@latchkey/cli',
  '@latchkey/cli/config',
  '@latchkey/cli/mail',
  '@latchkey/cli/metrics',
  '@latchkey/client',
  '@latchkey/client/offline',
  '@latchkey/client/passkeys',
  '@latchkey/client/react',
  '@latchkey/core',
  '@latchkey/core/store-kit',
  '@latchkey/core/strength',
  '@latchkey/core/testing',
  '@latchkey/store-postgres',
  '@latchkey/store-postgres/invalidation',
  '@latchkey/store-redis',
  '@latchkey/store-redis/invalidation',
  '@latchkey/store-sqlite',
  '@latchkey/wire',
];
/** Browser-side entry points: type-checked with the DOM library and without Node's types. */
const BROWSER = new Set([
  '@latchkey/client',
  '@latchkey/client/offline',
  '@latchkey/client/passkeys',
  '@latchkey/client/react',
]);
/** Usable in both: type-checked in both projects. */
const SHARED = new Set(['@latchkey/wire', '@latchkey/core/strength']);

const packages = publicPackages();
const entryPoints = packages.flatMap((pkg) =>
  Object.keys(pkg.manifest.exports ?? {})
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`)),
);

/** The version the workspace has installed, so npm finds it in its cache. */
function installedVersion(name: string): string {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const timings: string[] = [];
function timed<T>(label: string, work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    timings.push(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

let scratch = '';
let app = '';

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'latchkey-consumer-'));
  app = join(scratch, 'app');
  const tarballDir = join(scratch, 'tarballs');
  mkdirSync(tarballDir);
  mkdirSync(app);
  const tarballs = timed('pack', () => packAll(packages, tarballDir));

  // What a consumer adds next to Latchkey: better-sqlite3 at the workspace's version (see
  // below), React for @latchkey/client/react, the type packages, and every peer dependency
  // a Latchkey package declares (those entry points need them).
  const peers = Object.fromEntries(
    packages.flatMap((pkg: PublicPackage) =>
      Object.keys(pkg.manifest.peerDependencies ?? {}).map((name) => [
        name,
        installedVersion(name),
      ]),
    ),
  );
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'latchkey-consumer',
        private: true,
        type: 'module',
        dependencies: {
          ...Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`])),
          ...peers,
          'better-sqlite3': installedVersion('better-sqlite3'),
          react: installedVersion('react'),
        },
        devDependencies: {
          '@types/node': installedVersion('@types/node'),
          '@types/react': installedVersion('@types/react'),
        },
      },
      null,
      2,
    ),
  );
  // --prefer-offline: every third-party package is already in npm's cache from the
  // workspace's own install, so this is a copy, not a download (a few seconds).
  //
  // --ignore-scripts: the only install script in the tree is better-sqlite3's, which
  // builds its native addon from source (about 75 s on two cores; its prebuilt download
  // is unreachable here). The addon is not Latchkey's code and is the same for the same
  // version and Node: the workspace already built exactly that version, so its
  // better_sqlite3.node is copied in instead. Everything under test (our tarballs, their
  // JavaScript, their .d.ts, their package.json exports and dependencies) is still what
  // npm installed from the tarballs; only the compiled addon of a pinned third-party
  // version is reused, and the server test below really opens SQLite through it.
  timed('npm install', () =>
    execFileSync(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: app, stdio: ['ignore', 'ignore', 'pipe'], env: npmEnv() },
    ),
  );
  const installed = JSON.parse(
    readFileSync(join(app, 'node_modules/better-sqlite3/package.json'), 'utf8'),
  ) as { version: string };
  if (installed.version !== installedVersion('better-sqlite3')) {
    throw new Error(
      `better-sqlite3 ${installed.version} installed, the workspace built ${installedVersion('better-sqlite3')}`,
    );
  }
  const addon = 'build/Release/better_sqlite3.node';
  const target = join(app, 'node_modules/better-sqlite3', addon);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(ROOT, 'node_modules/better-sqlite3', addon), target);

  const fixtures = ['no-typescript.mjs', 'server.mjs', 'entry-points.mjs'];
  for (const file of [...fixtures, 'usage-server.ts', 'usage-browser.ts']) {
    copyFileSync(join(FIXTURES, file), join(app, file));
  }
}, 300_000);

afterAll(() => {
  console.log(`consumer test: ${timings.join(', ')}`);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs a command in the scratch project with a clean environment; throws with its output. */
function inApp(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { cwd: app, encoding: 'utf8', env: npmEnv() });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('the packed packages, installed in a project outside the workspace', () => {
  it('export every required entry point, and the same ones as the workspace', () => {
    expect(entryPoints).toEqual(expect.arrayContaining(REQUIRED));
    for (const pkg of packages) {
      const installed = JSON.parse(
        readFileSync(join(app, 'node_modules', pkg.name, 'package.json'), 'utf8'),
      ) as { exports?: object };
      expect(Object.keys(installed.exports ?? {}), pkg.name).toEqual(
        Object.keys(pkg.manifest.exports ?? {}),
      );
    }
  });

  it('load in plain Node from dist/*.js, with the names their source exports', async () => {
    const loaded = JSON.parse(
      timed('import all', () =>
        inApp(process.execPath, [...PLAIN_NODE, 'entry-points.mjs', ...entryPoints])
          .trim()
          .split('\n')
          .at(-1)!,
      ),
    ) as Record<string, { url: string; names: string[] }>;
    for (const specifier of entryPoints) {
      const pkg = specifier.split('/').slice(0, 2).join('/');
      const { url, names } = loaded[specifier]!;
      expect(url, specifier).toMatch(/\.js$/);
      expect(url, specifier).toContain(`file://${app}/node_modules/${pkg}/dist/`);
      // The workspace's source of the same entry point (this test resolves the source).
      const source = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
      expect(names, specifier).toEqual(Object.keys(source).sort());
    }
  });

  it('serve a plain-JavaScript app on node:http + SQLite: register, sign in, a protected route', async () => {
    const child = spawn(
      process.execPath,
      [...PLAIN_NODE, 'server.mjs', join(scratch, 'latchkey.sqlite')],
      {
        cwd: app,
        env: npmEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const match = /^listening (\d+)$/.exec(line);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const post = (path: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: base },
          body: JSON.stringify(body),
        });
      const account = { email: 'ada@example.test', password: 'correct horse battery staple' };

      expect((await fetch(`${base}/api/me`)).status).toBe(401);
      const registered = await post('/auth/register', { ...account, name: 'Ada' });
      expect(registered.status, await registered.clone().text()).toBeLessThan(300);

      const login = await post('/auth/login', account);
      expect(login.status, await login.clone().text()).toBe(200);
      const cookie = login.headers
        .getSetCookie()
        .find((line) => line.startsWith('__Host-Http-session='))
        ?.split(';')[0];
      expect(cookie).toBeDefined();

      const me = await fetch(`${base}/api/me`, { headers: { cookie: cookie! } });
      expect(me.status).toBe(200);
      const body = (await me.json()) as { id: string; resolved: string[] };
      expect(body.id).toMatch(/.+/);
      for (const url of body.resolved) {
        expect(url).toMatch(
          new RegExp(`^file://${app}/node_modules/@latchkey/[a-z-]+/dist/.+\\.js$`),
        );
      }
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('run the latchkey command from its compiled JavaScript', () => {
    const cli = packages.find((pkg) => pkg.name === '@latchkey/cli');
    expect(cli, 'the @latchkey/cli package').toBeDefined();
    const version = inApp(process.execPath, [
      ...PLAIN_NODE,
      'node_modules/.bin/latchkey',
      '--version',
    ]);
    expect(version.trim()).toBe(cli!.manifest.version);
  });

  it('type-check as TypeScript (nodenext, skipLibCheck off): server and browser code', () => {
    const imports = (filter: (specifier: string) => boolean) =>
      entryPoints
        .filter(filter)
        .map((specifier, i) => `import * as entry${i} from '${specifier}';\nexport { entry${i} };`)
        .join('\n');
    writeFileSync(
      join(app, 'server-entry-points.ts'),
      imports((s) => !BROWSER.has(s)),
    );
    writeFileSync(
      join(app, 'browser-entry-points.ts'),
      imports((s) => BROWSER.has(s) || SHARED.has(s)),
    );
    const compilerOptions = {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
    };
    writeFileSync(
      join(app, 'tsconfig.server.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, lib: ['ES2023'], types: ['node'] },
        files: ['server-entry-points.ts', 'usage-server.ts'],
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: [] },
        files: ['browser-entry-points.ts', 'usage-browser.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    timed('tsc server', () => inApp(process.execPath, [tsc, '-p', 'tsconfig.server.json']));
    timed('tsc browser', () => inApp(process.execPath, [tsc, '-p', 'tsconfig.browser.json']));
  });
});
