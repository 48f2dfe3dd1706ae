// ESLint flat config for the UI: the recommended sets of ESLint, typescript-eslint
// (syntax only, no type information: fast) and React hooks (its rules match hooks
// by name, so they apply to preact/hooks). `npm run lint` runs it on the whole ui/.
// TypeScript 7 has no compiler API yet, so package.json installs both, side by
// side: `@typescript/native` (TS 7) owns `tsc`; the package named `typescript` is
// the TS 6 API (@typescript/typescript6, bin `tsc6`) that typescript-eslint parses with.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'dist-mock/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  reactHooks.configs.flat['recommended-latest'],
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
  },
  {
    rules: {
      // `const { dropped: _d, ...rest } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['vite.config.ts', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
