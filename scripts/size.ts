/**
 * Size budget: bundle each public entry the way an app would (ESM, minified,
 * tree-shaken) and report min+gzip bytes against its budget. Exits 1 when a
 * budget is exceeded. `pnpm size` runs it; `pnpm test` includes it.
 */
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

interface Budget {
  readonly name: string;
  /** Module source the bundle is built from. */
  readonly entry: string;
  readonly budget: number;
}

const root = join(import.meta.dirname, '..');
const BUDGETS: readonly Budget[] = [
  {
    name: 'core: protocol + client + WebSocket transport (createWormhole, text)',
    entry: `import { createWormhole } from '@burrow/client'; export { createWormhole };`,
    budget: 30 * 1024,
  },
];

async function measure(entry: string): Promise<{ min: number; gzip: number }> {
  // The entry lives inside the repo so workspace packages resolve from it.
  const dir = mkdtempSync(join(root, '.size-'));
  const file = join(dir, 'entry.js');
  writeFileSync(file, entry);
  try {
    return await bundle(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bundle(file: string): Promise<{ min: number; gzip: number }> {
  const out = await build({
    root,
    logLevel: 'silent',
    configFile: false,
    resolve: { conditions: ['source'] },
    build: {
      write: false,
      target: 'es2022',
      minify: 'esbuild',
      lib: { entry: file, formats: ['es'], fileName: 'entry' },
      rollupOptions: { external: [] },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => ('output' in o ? o.output : []));
  const code = outputs.map((c) => ('code' in c ? c.code : '')).join('');
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
let failed = false;
console.log('## Size budget (min+gzip)');
for (const b of BUDGETS) {
  const { min, gzip } = await measure(b.entry);
  const ok = gzip <= b.budget;
  failed ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${kb(gzip).padStart(9)} / ${kb(b.budget)} budget  (min ${kb(min)})  ${b.name}`);
}
const iife = readFileSync(join(root, 'packages/client/dist/burrow.iife.js'));
console.log(`info ${kb(gzipSync(iife, { level: 9 }).length).padStart(9)} the whole IIFE bundle (every export)`);
if (failed) process.exit(1);
