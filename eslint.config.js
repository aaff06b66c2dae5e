// `npm run lint` (part of `npm test`): typescript-eslint's type-checked recommended rules over everything tsc checks
// (tsconfig.test.json: src/, tools/, test/, bench/, vitest.config.ts; web/tsconfig.json: the browser code); the build scripts (.mjs), this file and
// .dependency-cruiser.cjs get the same rules without type information, since no tsconfig covers them.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'models/', 'bench/results/', 'examples/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Stores, gates and transports implement Promise-returning interfaces with synchronous bodies (SQLite, no-ops): `async` makes a throw a rejection.
      '@typescript-eslint/require-await': 'off',
      // Its only finds were String(field ?? '') on parsed JSON, where `unknown ?? ''` types as {}: a scalar's text is meant, no object is printed.
      '@typescript-eslint/no-base-to-string': 'off',
      // Rejections pass on what they were given, as `throw` would: an AbortSignal's reason (typed any) or a caught error (unknown).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // The exceptions tsc's noUnusedParameters and noUnusedLocals make: `_`-prefixed parameters a signature needs, keys left out of a rest copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The browser code (web/) is typed by its own tsconfig (DOM, bundler resolution).
    files: ['web/**/*.ts'],
    languageOptions: { parserOptions: { project: './web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests and emulators read parsed JSON (answers, requests) as `any` and let the assertions check its shape.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    // Node's globals, named here rather than through another package: the scripts use these two.
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
