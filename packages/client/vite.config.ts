import { defineConfig } from 'vite';

// The script-tag build: one self-contained file defining the global `Burrow`.
export default defineConfig({
  resolve: { conditions: ['source'] },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: 'src/index.ts',
      name: 'Burrow',
      formats: ['iife'],
      fileName: () => 'burrow.iife.js',
    },
  },
});
