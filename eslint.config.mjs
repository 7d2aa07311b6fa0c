// typescript-eslint's strict type-checked rules over the sources, tests, benchmarks and native glue; the
// few adjustments below are where the project's design makes a rule wrong, and each says why.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build outputs, generated data, and the package-install fixtures (compiled by their own tsconfig
    // against the packed tarball, not against the sources).
    ignores: [
      'dist/',
      'lib/',
      'node_modules/',
      'bench/results/',
      'bench/data/',
      'bench/gpu-host/out/',
      'test/package/fixtures/',
      '.gpu/',
      'gpu-results/',
      'data/',
    ],
  },
  ...tseslint.configs.strictTypeChecked,
  {
    // A disable comment that no longer suppresses anything fails the lint, so the exceptions stay few and current.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parserOptions: {
        projectService: {
          // The build scripts and this file are plain ESM outside tsconfig.json; the default project parses them.
          allowDefaultProject: ['scripts/*.mjs', 'eslint.config.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // noUncheckedIndexedAccess makes every typed-array read `T | undefined`; in kernel loops the index is
      // in range by construction and `!` is the idiom.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers, booleans and bigints print unambiguously in messages and generated code.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: false, allowAny: false, allowRegExp: false, allowNever: false },
      ],
      // maxArguments(..., arguments, n) inspects the arguments object on purpose: it rejects extra arguments
      // from JavaScript callers.
      'prefer-rest-params': 'off',
      // `const { dropped, ...rest } = value` is how a copy leaves fields out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // node:test's test/it/describe/suite return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
        },
      ],
    },
  },
  // The engines are peers that meet only in exec/: neither imports the other, the code both use lives in
  // engines/shared (which imports neither), and from exec/ an engine reads only the physical operators' types.
  ...[
    ['src/engines/cpu/**/*.ts', ['**/engines/webgpu/**', '**/webgpu/**']],
    ['src/engines/webgpu/**/*.ts', ['**/engines/cpu/**', '**/cpu/**']],
    ['src/engines/shared/**/*.ts', ['**/engines/cpu/**', '**/engines/webgpu/**', '**/cpu/**', '**/webgpu/**']],
  ].map(([files, engines]) => ({
    files: [files],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: engines, message: 'engines import nothing from each other: move shared code to engines/shared, or dispatch from exec/' },
            { regex: '(^|/)exec/(?!operators\\.js$)', message: 'engines read only exec/operators.js (the physical operators) from exec/' },
          ],
        },
      ],
    },
  })),
  {
    // Tests build async stand-ins (route handlers, tasks, hooks, properties) for the API under test to
    // await; they need not await anything themselves.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The build scripts are untyped JavaScript driving the TypeScript compiler API: every value typed from it
    // is `any` to the checker, so the type-aware rules would only report that; they keep the syntactic rules.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
