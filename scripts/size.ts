/**
 * Size budget: bundle each public entry the way an app would (ESM, minified,
 * tree-shaken) and report min+gzip bytes against its budget. Exits 1 when a
 * budget is exceeded. `pnpm size` runs it; `pnpm test` includes it.
 */
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleChunks } from './bundle.js';

interface Budget {
  readonly name: string;
  /** Module source the bundle is built from. */
  readonly entry: string;
  /** Fails CI when exceeded: the current size plus a little headroom, so growth is a decision. */
  readonly budget: number;
  /** Where we want to be (reported, not enforced). */
  readonly goal?: number;
}

const root = join(import.meta.dirname, '..');
const BUDGETS: readonly Budget[] = [
  {
    name: 'core: protocol + client + WebSocket transport (createWormhole, text)',
    entry: `import { createWormhole } from '@burrow/client'; export { createWormhole };`,
    // @noble/hashes (SHA-256, HKDF) + @noble/ciphers (XSalsa20-Poly1305) are
    // about half of this; the Edwards arithmetic is protocol/src/edwards25519.ts.
    budget: 28 * 1024,
    goal: 30 * 1024,
  },
  {
    name: 'files: + sendFile/receiveOffer (Transit over WebSocket; the zip writer and reader load on demand)',
    entry: `export { createWormhole, sendFile, sendDirectory, receiveOffer } from '@burrow/client';`,
    // 41 → 42 kB: it stood at 41.0 kB (over by bytes) before the transfer's hasher in a Worker (issue 13) added 0.5 kB.
    // 42 → 42.5 kB: records handed out a socket read at a time (TransitConnection.readRecords, a sink's WRITE_BATCH) — no
    // stream hop per 16 KiB record on the receive path (issue 13: CLI→Burrow) — went 49 B over.
    budget: 42.5 * 1024,
  },
];

async function measure(entry: string): Promise<Measured> {
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

interface Measured {
  /** What loads before any dynamic import: the entry chunk and its static imports. */
  readonly initial: { min: number; gzip: number };
  /** Chunks loaded on demand (e.g. connect()). */
  readonly lazy: { min: number; gzip: number };
  /** Largest modules of the initial load, for --verbose. */
  readonly top: readonly [string, number][];
}

async function bundle(file: string): Promise<Measured> {
  const chunks = await bundleChunks(root, { entry: file, formats: ['es'], fileName: 'entry' });
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const initial = new Set<string>();
  const visit = (name: string) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const dep of byName.get(name)?.imports ?? []) visit(dep);
  };
  for (const c of chunks) if (c.isEntry) visit(c.fileName);
  const size = (list: typeof chunks) => {
    const code = list.map((c) => c.code).join('');
    return { min: code.length, gzip: list.length ? gzipSync(code, { level: 9 }).length : 0 };
  };
  const first = chunks.filter((c) => initial.has(c.fileName));
  const top = first
    .flatMap((c) => Object.entries(c.modules).map(([id, m]) => [id.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(root + '/', ''), m.renderedLength] as [string, number]))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.SIZE_TOP ?? 15));
  return { initial: size(first), lazy: size(chunks.filter((c) => !initial.has(c.fileName))), top };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
let failed = false;
const verbose = process.argv.includes('--verbose');
console.log('## Size budget (min+gzip, initial load; lazily loaded chunks shown apart)');
for (const b of BUDGETS) {
  const { initial, lazy, top } = await measure(b.entry);
  const ok = initial.gzip <= b.budget;
  failed ||= !ok;
  console.log(
    `${ok ? 'ok  ' : 'OVER'} ${kb(initial.gzip).padStart(9)} / ${kb(b.budget)} budget  (min ${kb(initial.min)}; +${kb(lazy.gzip)} loaded on demand)  ${b.name}`,
  );
  if (b.goal !== undefined) console.log(`     goal ${kb(b.goal)}: ${initial.gzip <= b.goal ? 'met' : `not met (${kb(initial.gzip - b.goal)} over)`}`);
  if (verbose) for (const [id, n] of top) console.log(`       ${kb(n).padStart(9)} min  ${id}`);
}
// 62 → 76 kB: the IIFE carries every export; files-v1 (sendFiles, the files offer), the OPFS files sink and its writer Worker, hashcash and its Worker, the WebTransport relay dialer and the welcome ICE servers came in together.
// 76 → 87 kB: a Transit v1 transfer hashes in a Worker of its own (issue 13): the Worker script carries SHA-256 — hash-wasm's WebAssembly (+6.7 kB; half the CPU of noble's per byte) and noble's as the fallback where a CSP forbids WebAssembly (+2.2 kB).
// 87 → 88 kB: httpStreamDialer, the relay over an HTTP stream for receiving pages (+0.7 kB; half Chromium's CPU per byte of a WebSocket).
// 88 → 88.5 kB: connect() failures say how far WebRTC got and, when Transit fails too, why WebRTC gave up (+0.1 kB).
// 88.5 → 89 kB: records read a socket read at a time (readRecords, WRITE_BATCH, the mux pump's batches) and the direct-v1 ability (+0.3 kB).
const IIFE_BUDGET = 89 * 1024;
const iife = gzipSync(readFileSync(join(root, 'packages/client/dist/burrow.iife.js')), { level: 9 }).length;
failed ||= iife > IIFE_BUDGET;
console.log(`${iife <= IIFE_BUDGET ? 'ok  ' : 'OVER'} ${kb(iife).padStart(9)} / ${kb(IIFE_BUDGET)} budget  the IIFE bundle (every export, connect() inlined)`);
if (failed) process.exit(1);
