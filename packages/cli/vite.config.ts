import { defineConfig } from 'vite';

// The published `burrow` command: src/main.ts and its @burrow/* workspace
// dependencies bundled into dist/ as ES modules for Node (no TypeScript
// loader at run time). Subcommands are dynamic imports, so each becomes its
// own chunk and `burrow --help` loads only the argument parser. Packages with
// native parts or optional native peers stay external and come from the
// registry at install time (see package.json `dependencies`).
export const EXTERNAL = ['ws', '@fails-components/webtransport', 'bufferutil', 'utf-8-validate', 'node-datachannel', 'better-sqlite3', 'sodium-native'];

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { noExternal: true, external: EXTERNAL, resolve: { conditions: ['source'], externalConditions: ['source'] } },
  logLevel: 'warn',
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    minify: false,
    rollupOptions: {
      input: { main: 'src/main.ts', log: 'src/log.ts' },
      external: (id) => id.startsWith('node:') || EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)),
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
