// ESLint with type information, run in `pnpm test` (pnpm lint).
// Few rules, each for a class of bug we have had or must not have: promises
// nobody awaits or handles, promises passed where a callback's result is
// ignored, and errors swallowed without a word (an empty function — such as
// `.catch(() => {})` — must carry a comment saying why ignoring is right).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['.tmp*/**', '**/dist/**', '**/node_modules/**', 'docs-site/.vitepress/**', 'playground/dist/**', '.burrow/**', 'test-results/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'packages/*/vite.config.ts', 'examples/*/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-empty-function': ['error', { allow: ['private-constructors'] }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
);
