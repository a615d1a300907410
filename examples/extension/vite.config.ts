import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

// The unpacked extension: dist/ holds manifest.json, popup.html and its
// bundled module (MV3 allows only 'self' scripts: no inline code, no CDN).
// Burrow's packages are bundled from source.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  publicDir: 'static',
  resolve: {
    conditions: ['source', 'browser', 'module', 'import', 'default'],
    alias: {
      '@burrow/agent/client': repo('packages/agent/src/client/index.ts'),
      '@burrow/store': repo('packages/store/src/index.ts'),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: false,
    rollupOptions: { input: fileURLToPath(new URL('./popup.html', import.meta.url)) },
  },
  logLevel: 'warn',
});
