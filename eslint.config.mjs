// ESLint with typescript-eslint's type-checked rules; Prettier owns formatting (see .prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.data/',
      '.tools/',
      'test-output/',
      'client/console/public/',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // An async function without await is how an interface that expects a promise is met (fastify plugins, stop()).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // A workflow is reached only through its contract (workflows/<name>.api.ts): its ids, messages,
    // types and typed operations. The worker finds the workflow code by path, not by import.
    files: ['**/*.ts'],
    ignores: ['workflows/**', 'test/tenant-year.test.ts', 'test/tenant-reconcile-retry.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/workflows/*',
                '!**/workflows/*.api',
                '!**/workflows/starter',
                '!**/workflows/search-attributes',
              ],
              message: 'Reach a workflow only through its contract, workflows/<name>.api.ts',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read the JSON that commands print (JSON.parse gives any) and assert on its fields.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
