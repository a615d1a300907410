/**
 * A test page for files-v1 between browsers (`sendFiles`, the `files` offer,
 * `opfsFilesSink`): loads only the IIFE bundle. File bytes come from a
 * generator (byte p of file `seed` is {@link patternByte}), streamed, so
 * neither side holds a whole file and Node can compute every checksum on
 * its own. Every RTCPeerConnection the page makes is kept in `pcs`, so a
 * test can close the WebRTC path under a running transfer.
 */
import { createHash } from 'node:crypto';
import type { DriverPage } from './driver.js';

/** Byte `p` of the file with `seed` (mirrored in the page). */
const PATTERN = '(p * 31 + (p >>> 11) + (p >>> 19) + seed * 131) & 255';

/** A file of the test offer: `seed` picks its bytes. */
export interface SpecFile {
  path: string;
  size: number;
  seed: number;
}

/** Several files and a folder (with a sub-folder, an empty file and an empty directory). */
export interface FilesSpec {
  files: SpecFile[];
  folder: { name: string; files: SpecFile[]; emptyDirs: string[] };
}

const MiB = 1024 * 1024;

/** The offer the scenarios send: ~26 MB in 3 loose files and a folder of 3 files + 1 empty directory. */
export const SPEC: FilesSpec = {
  files: [
    { path: 'a.bin', size: 12 * MiB, seed: 1 },
    { path: 'b.txt', size: 1_234_567, seed: 2 },
    { path: 'c.bin', size: 4 * MiB + 1, seed: 6 },
  ],
  folder: {
    name: 'album',
    files: [
      { path: 'x.bin', size: 6 * MiB, seed: 3 },
      { path: 'sub/y.bin', size: 3 * MiB + 7, seed: 4 },
      { path: 'zero.bin', size: 0, seed: 5 },
    ],
    emptyDirs: ['empty'],
  },
};

/** Every file of `spec` with its offer path, size and SHA-256 (hex), computed here in Node. */
export function expectedFiles(spec: FilesSpec): { path: string; size: number; sha256: string }[] {
  const all = [...spec.files, ...spec.folder.files.map((f) => ({ ...f, path: `${spec.folder.name}/${f.path}` }))];
  return all.map(({ path, size, seed }) => {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(MiB);
    for (let from = 0; from < size; from += MiB) {
      const n = Math.min(MiB, size - from);
      for (let i = 0; i < n; i++) {
        const p = from + i;
        chunk[i] = (p * 31 + (p >>> 11) + (p >>> 19) + seed * 131) & 255;
      }
      hash.update(chunk.subarray(0, n));
    }
    return { path, size, sha256: hash.digest('hex') };
  });
}

export const FILES_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow files-v1</title>
<script src="/burrow.iife.js"></script>
<script>
  let w, sending, receiving, offer, lastProgress, abort, stage = 'idle';
  const seeds = new Map();
  window.pcs = [];
  class Tracked extends RTCPeerConnection { constructor(config) { super(config); window.pcs.push(this); } }
  const connect = { RTCPeerConnection: Tracked };
  const gen = (seed, from, n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) { const p = from + i; b[i] = ${PATTERN}; } return b; };
  // With 'gate' (0…1) each file slows to a crawl (64 KiB per 250 ms) past that share of its bytes.
  const source = (seed, size, gate) => () => {
    let p = 0;
    const stop = gate === undefined ? size : Math.floor(size * gate);
    return new ReadableStream({ pull(c) {
      if (p >= size) return c.close();
      const slow = p >= stop;
      const n = Math.min(slow ? 65536 : 262144, size - p, slow ? size - p : stop - p);
      const chunk = gen(seed, p, n); p += n;
      if (!slow) return c.enqueue(chunk);
      return new Promise((res) => setTimeout(res, 250)).then(() => c.enqueue(chunk));
    } }, { highWaterMark: 0 });
  };
  const plain = (r) => JSON.parse(JSON.stringify(r));
  const failure = (e) => ({ error: { code: e && e.code, message: String(e && e.message || e) } });
  window.setup = async (mailbox, code) => {
    w = await Burrow.createWormhole({ mailbox });
    if (code) { w.setCode(code); return code; }
    return await w.allocateCode();
  };
  window.send = (spec, gate) => {
    const items = spec.files.map((f) => ({ name: f.path, size: f.size, stream: source(f.seed, f.size, gate) }));
    items.push({ name: spec.folder.name, entries: [
      ...spec.folder.files.map((f) => ({ path: f.path, type: 'file', size: f.size, open: source(f.seed, f.size, gate) })),
      ...spec.folder.emptyDirs.map((d) => ({ path: d, type: 'directory' })),
    ] });
    abort = new AbortController();
    stage = 'sending';
    sending = Burrow.sendFiles(w, items, { connect, signal: abort.signal, onProgress: (p) => { lastProgress = p; } }).then(plain, failure).finally(() => { stage = 'settled'; });
  };
  window.abortSend = async () => { abort.abort(); const r = await sending; await w.close().catch(() => {}); return r; };
  window.sent = async () => { const r = await sending; stage = 'closing'; await w.close().catch(() => {}); stage = 'closed'; return r; };
  window.receive = async (spec) => {
    for (const f of spec.files) seeds.set(f.path, f.seed);
    for (const f of spec.folder.files) seeds.set(spec.folder.name + '/' + f.path, f.seed);
    offer = await Burrow.receiveOffer(w, { connect });
    if (offer.type !== 'files') return { type: offer.type };
    const sink = Burrow.opfsFilesSink();
    stage = 'receiving';
    receiving = offer.accept(sink, { connect, onProgress: (p) => { lastProgress = p; } }).then(async (result) => {
      stage = 'checking';
      // Check every byte of what OPFS now holds under the final names.
      const checked = [];
      for (const f of result.files) {
        const file = await sink.getFile(f.path);
        const r = file.stream().getReader(); let p = 0, bad = 0;
        for (;;) { const { value, done } = await r.read(); if (done) break; const want = gen(seeds.get(f.path), p, value.length); for (let i = 0; i < value.length; i++) if (value[i] !== want[i]) bad++; p += value.length; }
        checked.push({ path: f.path, size: file.size, bad });
      }
      return { ...plain(result), checked, modes: [...sink.modes], partials: await sink.listPartials(), received: await sink.listReceived() };
    }, failure);
    return { type: offer.type, files: offer.files.map((f) => ({ path: f.path, size: f.size })), directories: offer.directories, bytes: offer.bytes, via: offer.via };
  };
  window.received = async () => { const r = await receiving; stage = 'closing'; await w.close().catch(() => {}); stage = 'closed'; return r; };
  window.partials = () => Burrow.opfsFilesSink().listPartials();
  window.clearOpfs = async () => { const s = Burrow.opfsFilesSink(); await s.clearPartials(); await s.clearReceived(); };
  window.progress = () => lastProgress && plain(lastProgress);
  window.state = () => ({ stage, progress: lastProgress && plain(lastProgress), pcs: window.pcs.map((pc) => pc.connectionState + '/' + pc.iceConnectionState) });
  window.dropWebRtc = () => { let n = 0; for (const pc of window.pcs) if (pc.connectionState !== 'closed') { pc.close(); n++; } return n; };
</script>`;

export interface FileSummary {
  path: string;
  size: number;
  sha256: string;
  resumedFrom: number;
}
export interface PageFilesResult {
  files: FileSummary[];
  bytes: number;
  moved: number;
  via: string;
  connection: string;
  reconnects: number;
  elapsedMs: number;
  checked?: { path: string; size: number; bad: number }[];
  modes?: string[];
  partials?: { path: string; size: number; held: number }[];
  received?: { path: string; size: number }[];
  error?: { code: string; message: string };
}
export interface PageOffer {
  type: string;
  files?: { path: string; size: number }[];
  directories?: string[];
  bytes?: number;
  via?: string;
}
export interface PageProgress {
  bytes: number;
  total: number;
  moved: number;
  filesDone: number;
  files: number;
}

type Win = {
  setup(m: string, c?: string): Promise<string>;
  send(s: FilesSpec, gate?: number): void;
  sent(): Promise<PageFilesResult>;
  abortSend(): Promise<PageFilesResult>;
  receive(s: FilesSpec): Promise<PageOffer>;
  received(): Promise<PageFilesResult>;
  partials(): Promise<{ path: string; size: number; held: number }[]>;
  clearOpfs(): Promise<void>;
  progress(): PageProgress | undefined;
  dropWebRtc(): number;
  state(): { stage: string; progress?: PageProgress; pcs: string[] };
};
/** Drive {@link FILES_PAGE} from a test. */
export const filesPage = (p: DriverPage) => ({
  setup: (mailbox: string, code?: string) => p.evaluate(([m, c]) => (window as unknown as Win).setup(m, c), [mailbox, code] as const),
  /** Start sending; with `gate`, every file slows to 256 KiB/s past that share of its bytes. */
  send: (spec: FilesSpec, gate?: number) => p.evaluate(([s, g]) => (window as unknown as Win).send(s, g), [spec, gate] as const),
  sent: () => p.evaluate(() => (window as unknown as Win).sent(), undefined),
  abortSend: () => p.evaluate(() => (window as unknown as Win).abortSend(), undefined),
  receive: (spec: FilesSpec) => p.evaluate((s) => (window as unknown as Win).receive(s), spec),
  received: () => p.evaluate(() => (window as unknown as Win).received(), undefined),
  partials: () => p.evaluate(() => (window as unknown as Win).partials(), undefined),
  clearOpfs: () => p.evaluate(() => (window as unknown as Win).clearOpfs(), undefined),
  progress: () => p.evaluate(() => (window as unknown as Win).progress(), undefined),
  dropWebRtc: () => p.evaluate(() => (window as unknown as Win).dropWebRtc(), undefined),
  state: () => p.evaluate(() => (window as unknown as Win).state(), undefined),
});
