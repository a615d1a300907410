/**
 * One in-memory Vite library build, the way the repo's scripts bundle code:
 * workspace packages through their `source` condition (src/ directly),
 * ES2022, minified with esbuild, nothing written to disk.
 */
import { build, type LibraryOptions } from 'vite';

/** A rendered chunk of a build (code, imports, modules). */
export type BundleChunk = Extract<Extract<Awaited<ReturnType<typeof build>>, { output: unknown }>['output'][number], { type: 'chunk' }>;

/** Build `lib` with `root` as the project root and return the output chunks (no assets). */
export async function bundleChunks(root: string, lib: LibraryOptions): Promise<BundleChunk[]> {
  const out = await build({
    root,
    logLevel: 'silent',
    configFile: false,
    resolve: { conditions: ['source'] },
    build: {
      write: false,
      target: 'es2022',
      minify: 'esbuild',
      lib,
      rollupOptions: { external: [] },
    },
  });
  return (Array.isArray(out) ? out : [out])
    .flatMap((o) => ('output' in o ? o.output : []))
    .filter((c): c is BundleChunk => c.type === 'chunk');
}
