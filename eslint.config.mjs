import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', '.tools/**', '.test-build/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-console': 'off',
    },
  },
  {
    // Run persistence by id, with no tenant to check, is the engine's own (src/modules/engine/): everywhere else
    // reads runs through RunReads, which takes the tenant.
    files: ['src/**/*.ts'],
    ignores: ['src/modules/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/engine/persistence/run-store',
                '**/engine/worker/*',
                '!**/engine/worker/engine-worker.module',
              ],
              message:
                "RunStore and the engine worker are the engine module's own; read runs through RunReads.",
            },
          ],
        },
      ],
    },
  },
  {
    // jest's asymmetric matchers (expect.any, objectContaining) are typed `any`.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // examples/ compiles against a client generated at check time, so it belongs to no project here;
    // `npm run client:check` type-checks it (strict) against that client.
    files: ['examples/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
