// ESLint, flat config: typescript-eslint's type-aware recommended rules over every
// TypeScript file of tsconfig.json (app, test, e2e, bench, scripts and the configs), React's
// hook rules over the app, and plain recommended rules over the few JavaScript files.
// Formatting is Prettier's alone (.prettierrc.json); no rule here is about layout.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // test/kernels/fixtures/*.ts is written by its Python generator (torchvision's float32
  // values printed with 17 digits), not by hand.
  globalIgnores(['dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'bench/results/', 'models/**/runs/', 'models/data/', 'test/**/fixtures/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error: await it, hand it a .catch that reports,
      // or write `void` with a comment saying why fire-and-forget is right.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Off: the code writes `values[i]!` on every indexed read, as if noUncheckedIndexedAccess
      // were on (the index is checked by the loop, and the `!` says so); this rule would strip
      // them all because tsconfig leaves that flag off.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Off: an `async` function without `await` is how our fakes and small adapters keep a
      // promise-returning interface (and turn a throw into a rejection, as the real one does).
      '@typescript-eslint/require-await': 'off',
      // Case details print coordinate lists as `${box}` → "1,2,3,4" on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true, allowArray: true }],
      // `_name` marks a parameter that an interface requires but this implementation ignores.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['app/**/*.tsx', 'app/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
);
