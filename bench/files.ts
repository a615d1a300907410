/**
 * Issue 12 benchmarks (files-v1), Node ↔ Node over WebRTC (node-datachannel)
 * through the Debian mailbox:
 *
 * - throughput of `sendFiles` → files offer (bytes discarded at the sink,
 *   so the path is measured, not the disk) against a raw RTCDataChannel pair
 *   moving the same bytes by hand in the same run (goal ≥ 0.95×);
 * - a 1 GiB file interrupted at 50 % and resumed with a new code into a
 *   real directory: bytes moved by the resumed run / file size (goal ≤ 55 %);
 * - RSS growth while that 1 GiB moves (goal ≤ 64 MiB; both ends run in
 *   this one process, so this is the sum of the two).
 *
 * - Chromium ↔ Chromium: `sendFiles` → files offer between two pages (the
 *   script-tag bundle, the playground's SDK path; bytes discarded at the
 *   sink) against a raw RTCDataChannel pair in the same browser run (goal
 *   ≥ 0.9×).
 *
 * Sizes: BENCH_FILES_MIB (default 256; the browser run uses a quarter) and BENCH_RESUME_MIB (default 1024).
 * BENCH_FILES_PROCESSES=2 runs the Node ↔ Node receivers in a child process
 * (bench/node-peer.ts), so each end has its own JavaScript thread.
 * BENCH_FILES_CASES picks sections (comma-separated `node,browser,resume`; default all).
 * BENCH_NOHASH=1 replaces SHA-256 by a no-op in the throughput runs (a
 * diagnostic: both ends hash on this one process's main thread).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Hasher } from '@burrow/protocol';
import { createWormhole, receiveOffer, sendFiles, type FilesResult, type FilesSink, type SendItem, type WebSocketConstructor } from '@burrow/client';
import { fileSource, nodeFilesSink, nodeSha256 } from '@burrow/client/node';
import { startMailboxServer, type MailboxServer } from '@burrow/testkit';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { launchChromium } from '@burrow/testkit';
import { repoPath, serveStatic } from '../e2e/support/static-server.js';
import { envNumber, report } from './lib.js';
import { RAW_CHANNEL_JS } from './raw-channel.js';
import { loadNodeDataChannel, nodeRuns, rtcConstructor } from './webrtc.js';
import { discardSink, twoProcessRuns, type PairRun } from './node-peer.js';

const MiB = 1024 * 1024;
const WS = WebSocket as unknown as WebSocketConstructor;
const LOOPBACK = { rtcConfiguration: { bindAddress: '127.0.0.1' } };

/** A stream of `bytes` patterned bytes in 256 KiB chunks (no disk). */
const generated = (bytes: number) => () => {
  const block = new Uint8Array(256 * 1024).fill(42);
  let left = bytes;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, block.length);
      // The same block each time, as the raw and stream baselines send theirs (no copy per chunk).
      c.enqueue(n === block.length ? block : block.slice(0, n));
      left -= n;
    },
  });
};

async function once(mailbox: MailboxServer, items: SendItem[], sink: FilesSink, during?: (bytes: number, abort: () => void) => void, hasher?: Hasher): Promise<[FilesResult, FilesResult] | 'aborted'> {
  const createHash = hasher ? () => hasher : nodeSha256;
  const RTC = rtcConstructor();
  const [a, b] = await Promise.all([createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC }), createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC })]);
  b.setCode(await a.allocateCode());
  const stop = new AbortController();
  try {
    const sending = sendFiles(a, items, { connect: LOOPBACK, createHash });
    const offer = await receiveOffer(b, { connect: LOOPBACK });
    if (offer.type !== 'files') throw new Error(`expected files, got ${offer.type}`);
    const receiving = offer.accept(sink, {
      createHash,
      signal: stop.signal,
      progressIntervalMs: 50,
      ...(during ? { onProgress: (p) => during(p.bytes, () => stop.abort()) } : {}),
    });
    sending.catch(() => undefined);
    const results = await Promise.allSettled([sending, receiving]);
    if (stop.signal.aborted) return 'aborted';
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    return results.map((r) => (r as PromiseFulfilledResult<FilesResult>).value) as [FilesResult, FilesResult];
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}

async function writeBigFile(path: string, bytes: number): Promise<string> {
  const out = createWriteStream(path);
  const h = createHash('sha256');
  const block = Buffer.alloc(4 * MiB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + (i >> 10)) & 255;
  for (let left = bytes; left > 0; left -= block.length) {
    const piece = left >= block.length ? block : block.subarray(0, left);
    h.update(piece);
    if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return h.digest('hex');
}

/** Page functions: files-v1 between two pages with generated bytes and a sink that keeps nothing, and the raw baseline. */
const FILES_PAGE = `<!doctype html><meta charset="utf-8"><script src="/burrow.iife.js"></script><script>
  const BCHUNK = 65536;
  const bblock = new Uint8Array(BCHUNK); crypto.getRandomValues(bblock);
  let w;
  window.setup = async (mailbox, code) => { w = await Burrow.createWormhole({ mailbox }); if (code) { w.setCode(code); return code; } return w.allocateCode(); };
  window.filesSend = async (bytes) => {
    const stream = () => { let left = bytes; return new ReadableStream({ pull(c) { if (left <= 0) return c.close(); const n = Math.min(left, 262144); c.enqueue(new Uint8Array(n)); left -= n; } }); };
    const r = await Burrow.sendFiles(w, [{ name: 'bench.bin', size: bytes, stream }]);
    return r.via;
  };
  const keepNothing = { open: async () => ({ held: 0, readHeld: () => new ReadableStream({ start: (c) => c.close() }), write: async () => new WritableStream(), commit: async () => {}, discard: async () => {} }), mkdir: async () => {} };
  window.filesRecv = async () => {
    const offer = await Burrow.receiveOffer(w);
    const r = await offer.accept(keepNothing);
    return { via: r.via, ms: r.elapsedMs };
  };
  window.done = () => w.close();
${RAW_CHANNEL_JS}</script>`;

type PageFn = (...args: unknown[]) => Promise<unknown>;
const call = <R>(p: Page, name: string, ...args: unknown[]): Promise<R> =>
  p.evaluate(([n, a]) => (window as unknown as Record<string, PageFn>)[n as string]!(...(a as unknown[])), [name, args] as const) as Promise<R>;

/** Chromium ↔ Chromium: raw RTCDataChannel and files-v1, alternating, `runs` each (after one warm-up of both). */
async function browserFiles(mailboxUrl: string, bytes: number, runs: number): Promise<{ raw: number[]; files: number[] }> {
  const iife = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
  if (!existsSync(iife)) throw new Error('run `pnpm build` first (the IIFE is missing)');
  const site = await serveStatic({ '/burrow.iife.js': iife }, { '/': FILES_PAGE });
  const browser = await launchChromium();
  const twoPages = async (): Promise<[Page, Page]> => {
    const made: Page[] = [];
    for (const _ of [0, 1]) {
      const ctx = await browser.newContext();
      await ctx.grantPermissions(['microphone']);
      const p = await ctx.newPage();
      await p.goto(site.url);
      made.push(p);
    }
    return made as [Page, Page];
  };
  const out = { raw: [] as number[], files: [] as number[] };
  try {
    for (let i = 0; i <= runs; i++) {
      process.stderr.write(`files bench: browser run ${i}/${runs}\n`);
      const [a, b] = await twoPages();
      await call(a, 'rawFinish', await call(b, 'rawAnswer', await call(a, 'rawOffer')));
      await call(b, 'rawReady');
      const t0 = performance.now();
      await Promise.all([call(a, 'rawSend', bytes), call(b, 'rawRecv', bytes)]);
      if (i > 0) out.raw.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
      const [c, d] = await twoPages();
      await call(d, 'setup', mailboxUrl, await call<string>(c, 'setup', mailboxUrl));
      const [via, got] = await Promise.all([call<string>(c, 'filesSend', bytes), call<{ via: string; ms: number }>(d, 'filesRecv')]);
      if (via !== 'webrtc' || got.via !== 'webrtc') throw new Error(`expected webrtc, got ${via} / ${got.via}`);
      if (i > 0) out.files.push(bytes / 1e6 / (got.ms / 1000));
      for (const p of [a, b, c, d]) await p.context().close();
    }
  } finally {
    await browser.close();
    await site.close();
  }
  return out;
}

export async function filesBench(): Promise<void> {
  await loadNodeDataChannel();
  const mailbox = await startMailboxServer();
  const runs = envNumber('BENCH_RUNS', 3);
  const bytes = envNumber('BENCH_FILES_MIB', 256) * MiB;
  const cases = (process.env['BENCH_FILES_CASES'] ?? 'node,browser,resume').split(',');
  if (cases.includes('node')) await nodeFiles(mailbox, bytes, runs);
  if (cases.includes('browser')) await pageFiles(mailbox, Math.max(MiB, Math.floor(bytes / 4)), runs);
  if (cases.includes('resume')) await resume(mailbox, envNumber('BENCH_RESUME_MIB', 1024) * MiB);
}

async function nodeFiles(mailbox: MailboxServer, bytes: number, runs: number): Promise<void> {
  // The three cases take turns within each round (the first round warms up), so drift in the machine's load hits them alike.
  const nohash = Boolean(process.env['BENCH_NOHASH']);
  const hasher = nohash ? { update: () => undefined, hexDigest: () => '0'.repeat(64) } : undefined;
  const file = (): SendItem => ({ name: 'bench.bin', size: bytes, stream: generated(bytes) });
  // Both ends in this process (one JavaScript thread for both), or the receiver in a child process of its own.
  const split = envNumber('BENCH_FILES_PROCESSES', 1) === 2 ? twoProcessRuns(mailbox.url, bytes, file, nohash) : undefined;
  const inProcess = (run: () => Promise<number>) => async (): Promise<PairRun> => {
    const c0 = process.cpuUsage();
    const mbps = await run();
    const c = process.cpuUsage(c0);
    return { mbps, cpuUs: c.user + c.system };
  };
  console.log(`\n## files-v1, Node ↔ Node over WebRTC (${bytes / MiB} MiB, ${runs} runs, ${split ? 'each end in its own process' : 'both ends in one process'})`);
  const baseline = nodeRuns(bytes);
  const cases: Record<string, () => Promise<PairRun>> = split
    ? { 'raw RTCDataChannel': split.raw, 'one connect() stream': split.stream, 'files-v1 (sendFiles)': split.files }
    : {
        'raw RTCDataChannel': inProcess(baseline.raw),
        'one connect() stream': inProcess(baseline.burrow),
        'files-v1 (sendFiles)': inProcess(async () => {
          const r = await once(mailbox, [file()], discardSink, undefined, hasher);
          if (r === 'aborted') throw new Error('unexpected abort');
          if (r[1].via !== 'webrtc') throw new Error(`expected webrtc, got ${r[1].via}`);
          return bytes / 1e6 / (r[1].elapsedMs / 1000);
        }),
      };
  const speed = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  const cpu = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i <= runs; i++) {
    for (const [name, run] of Object.entries(cases)) {
      // CPU time of all threads (node-datachannel's included) of both ends' processes.
      const { mbps, cpuUs } = await run();
      if (i === 0) continue;
      speed.get(name)!.push(mbps);
      cpu.get(name)!.push(cpuUs / 1e6 / (bytes / 1e8));
    }
  }
  split?.close();
  report('sendFiles → files offer vs raw RTCDataChannel (MB/s, higher is better)', [...speed].map(([name, values]) => ({ name, values, unit: 'MB/s' })), 'raw RTCDataChannel', true);
  // On 2 cores the pair is CPU-bound, so the speed ratio follows this one (and it is steadier under load).
  report('CPU time of both ends per 100 MB (s, lower is better)', [...cpu].map(([name, values]) => ({ name, values, unit: 's' })), 'raw RTCDataChannel');
}

async function pageFiles(mailbox: MailboxServer, pageBytes: number, runs: number): Promise<void> {
  console.log(`\n## files-v1, Chromium ↔ Chromium over WebRTC (${pageBytes / MiB} MiB, ${runs} runs)`);
  const inPages = await browserFiles(mailbox.url, pageBytes, runs);
  report(
    'sendFiles → files offer between pages vs raw RTCDataChannel (MB/s, higher is better)',
    [
      { name: 'raw RTCDataChannel', values: inPages.raw, unit: 'MB/s' },
      { name: 'files-v1 (sendFiles)', values: inPages.files, unit: 'MB/s' },
    ],
    'raw RTCDataChannel',
    true,
  );
}

async function resume(mailbox: MailboxServer, big: number): Promise<void> {
  console.log(`\n## files-v1 resume: ${big / MiB} MiB interrupted at 50 %, resumed with a new code`);
  const dir = await mkdtemp(join(tmpdir(), 'burrow-bench-files-'));
  try {
    const src = join(dir, 'src.bin');
    const dst = join(dir, 'out');
    const digest = await writeBigFile(src, big);
    const first = await once(mailbox, [{ ...(await fileSource(src)), path: 'big.bin' }], nodeFilesSink(dst), (b, abort) => b >= big / 2 && abort());
    if (first !== 'aborted') throw new Error('the first run was meant to be interrupted');
    const kept = (await stat(join(dst, (await readdir(dst)).find((n) => n.endsWith('.burrow-partial'))!))).size;
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const t0 = performance.now();
    const second = await once(mailbox, [{ ...(await fileSource(src)), path: 'big.bin' }], nodeFilesSink(dst));
    clearInterval(sampler);
    if (second === 'aborted') throw new Error('unexpected abort');
    const got = second[1];
    if (got.files[0]!.sha256 !== digest) throw new Error('checksum mismatch after resume');
    const secs = (performance.now() - t0) / 1000;
    console.log(`kept after the interruption: ${(kept / MiB).toFixed(1)} MiB (${((100 * kept) / big).toFixed(1)} %)`);
    console.log(`resumed run moved ${(got.moved / MiB).toFixed(1)} MiB = ${((100 * got.moved) / big).toFixed(1)} % of the file (goal ≤ 55 %), resumedFrom ${(got.files[0]!.resumedFrom / MiB).toFixed(1)} MiB, ${secs.toFixed(1)} s, checksum equal`);
    console.log(`RSS growth during the resumed run (both ends in this process): ${((peak - rss0) / MiB).toFixed(1)} MiB (goal ≤ 64 MiB)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
