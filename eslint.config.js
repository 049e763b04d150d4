// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // examples/ are compiled and run by their tests inside a project that installed the packed
  // package (test/support/consumer-project.ts); from here 'dbswitch' does not resolve to them.
  { ignores: ['dist/', 'build/', 'node_modules/', 'examples/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      // TypeScript checks names (checkJs covers bench/*.js); ESLint's no-undef knows no Node globals.
      'no-undef': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests read rows by column name and build throwaway values.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
