import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

// The unpacked extension: dist/ holds manifest.json, background.js (the
// service worker / background script that owns the agent connection),
// popup.html and its bundled module (MV3 allows only 'self' scripts: no
// inline code, no CDN).
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
    rollupOptions: {
      input: {
        popup: fileURLToPath(new URL('./popup.html', import.meta.url)),
        offscreen: fileURLToPath(new URL('./offscreen.html', import.meta.url)),
        background: fileURLToPath(new URL('./src/background.ts', import.meta.url)),
      },
      // The manifest names the background script: a fixed file name, no hash.
      output: { entryFileNames: (chunk) => (chunk.name === 'background' ? 'background.js' : 'assets/[name]-[hash].js') },
    },
  },
  logLevel: 'warn',
});
