import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';

// `--mode mock` swaps the Tauri backend for dev/mock-backend.ts (see src/main.tsx).
// The production build never contains it: `import.meta.env.MODE === 'mock'` is
// replaced by `false` at build time and the dynamic import is dropped.
export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [preact({ prefreshEnabled: mode !== 'test', devToolsEnabled: false })],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    // Tauri's CSP has no 'unsafe-inline': keep every asset a separate file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'node',
    // Stylesheets read as text by src/styles/styles.test.ts (Vitest empties CSS by default).
    css: { include: [/src\/styles\/.+\.css/] },
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
}));
