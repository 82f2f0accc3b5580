// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of docs/ARCHITECTURE.md, enforced: a module may import its own layer and
 * those below, never one above. In the core: wire → foundation (errors, crypto,
 * cookies, config, …) → strategies (session, token) → operations (auth/) → HTTP
 * (http/) → the composition root (latchkey.ts, index.ts); stores beside, on the
 * foundation only. Across packages only by package name, never a relative path.
 */
function layerBoundaries() {
  const crossPackage = {
    group: ['../../*/src/**', '../../../*/src/**', '../../../../*/src/**'],
    message: 'Import another package by its name (e.g. @latchkey/wire), never by a relative path.',
  };
  const upward = (group, layer) => ({
    group,
    message: `The ${layer} layer may not import a layer above it (docs/ARCHITECTURE.md).`,
  });
  const root = ['latchkey.js', 'index.js', 'store-kit.js', 'testing.js'];
  // The composition root wires every layer together; tests may reach anywhere.
  const rootFiles = root.map((f) => `packages/core/src/${f.replace('.js', '.ts')}`);
  const rule = (files, ...patterns) => ({
    files,
    ignores: ['**/*.test.ts', ...(patterns.length > 0 ? rootFiles : [])],
    rules: { 'no-restricted-imports': ['error', { patterns: [crossPackage, ...patterns] }] },
  });
  const core = 'packages/core/src';
  return [
    rule(['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx', 'apps/*/src/**/*.ts']),
    rule(
      [`${core}/*.ts`],
      upward(
        [
          './auth/*',
          './http/*',
          './session.js',
          './token/access.js',
          './token/refresh.js',
          './stores/guard.js',
          './stores/near-cache.js',
          ...root.map((f) => `./${f}`),
        ],
        'foundation',
      ),
    ),
    rule(
      [`${core}/config/*.ts`],
      upward(
        [
          '../auth/*',
          '../http/*',
          '../session.js',
          '../token/*',
          '!../token/keys.js',
          ...root.map((f) => `../${f}`),
        ],
        'foundation',
      ),
    ),
    rule(
      [`${core}/session.ts`, `${core}/token/*.ts`],
      upward(
        [
          './auth/*',
          '../auth/*',
          './http/*',
          '../http/*',
          ...root.flatMap((f) => [`./${f}`, `../${f}`]),
        ],
        'strategy',
      ),
    ),
    rule(
      [`${core}/auth/*.ts`],
      upward(['../http/*', '../stores/guard.js', ...root.map((f) => `../${f}`)], 'operations'),
    ),
    rule(
      [`${core}/http/*.ts`],
      upward(['../stores/*', '!../stores/types.js', ...root.map((f) => `../${f}`)], 'HTTP'),
    ),
    rule(
      [`${core}/stores/*.ts`],
      upward(
        ['../auth/*', '../http/*', '../session.js', '../token/*', ...root.map((f) => `../${f}`)],
        'store',
      ),
    ),
  ];
}

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/dist-server/**',
      'data/**',
      'coverage/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests read JSON bodies of unknown shape and assert on them.
    files: ['**/*.test.ts', '**/test/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...layerBoundaries(),
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
