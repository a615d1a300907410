/**
 * Issue 13 benchmark: a page (headless Chromium, the script-tag build)
 * receiving a file from the `wormhole` CLI through the gateway's relay
 * (CLI on TCP, page on WebSocket), next to CLI→CLI through the Debian relay
 * 0.2.1 measured in the same run. Throughput is taken on the CLI sender
 * (--dump-timing: transit connected → ack) for every case. The page keeps a
 * requestAnimationFrame loop running and reports its longest gap between
 * frames: with the record Worker pool the main thread stays free; the
 * "main-thread crypto" row (Worker removed from the page) shows what the
 * pool saves. The page discards the bytes (the SDK still hashes them).
 *
 * The ceiling of the transport: "bare bytes" sends the same number of bytes
 * from a Node TCP client through the gateway relay into a page WebSocket,
 * no Burrow and no crypto (taken in the page: first byte → last byte).
 * CPU seconds per 100 MB (user + system, from /proc: Chromium's processes,
 * the CLI sender, this process — the gateway and playwright) say what each
 * case costs, robust to a loaded machine where MB/s is not.
 *
 * "bare bytes HTTP→page" fetches the same number of bytes as one streamed
 * HTTP response (no relay): what the page's end of a download costs in
 * Chromium next to a WebSocket.
 *
 * "over the relay's HTTP stream": the page dials the relay with
 * httpStreamDialer (one streamed GET carries relay → page bytes, its writes
 * go as POSTs) instead of the WebSocket.
 *
 * BURROW_BENCH_MB (default 100), BURROW_BENCH_RUNS (default 2);
 * BURROW_BENCH_CASES (comma-separated, default all: bare, page, http,
 * main, fetch) picks the rows besides the CLI→CLI baseline, which always runs;
 * BURROW_BENCH_BASELINE_IIFE=path adds a row for another build of
 * burrow.iife.js (e.g. built from an earlier commit) in the same run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '@burrow/gateway';
import {
  assertPrivateNetwork,
  launchChromium,
  makeTempDir,
  randomFile,
  removeDir,
  runWormhole,
  startMailboxServer,
  startTransitRelay,
} from '@burrow/testkit';
import { repoPath, serveStatic } from '../e2e/support/static-server.js';
import { envNumber, report, type Sample } from './lib.js';
import { cpuSnapshot, cpuSpent } from './proc-cpu.js';

const page = (script: string) => `<!doctype html>
<meta charset="utf-8">
<title>Burrow page transfer bench</title>
<script src="${script}"></script>
<script>
  // Receive one file into nothing; meanwhile count animation frames and the longest gap between two.
  window.receiveDiscard = async (mailbox, code, noWorkers, http) => {
    if (noWorkers) delete window.Worker;
    // http: the relay's HTTP side (a streamed GET for its bytes, POSTs for the page's) instead of its WebSocket.
    const transit = http ? { transit: { dialers: { websocket: Burrow.httpStreamDialer() } } } : {};
    let frames = 0, last = performance.now(), maxGap = 0, running = true;
    const tick = (t) => { frames++; maxGap = Math.max(maxGap, t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const offer = await Burrow.receiveOffer(w, { signal: AbortSignal.timeout(300000), ...transit });
    if (offer.type !== 'file') throw new Error('expected a file, got ' + offer.type);
    const t0 = performance.now();
    const frames0 = frames;
    maxGap = 0;
    const result = await offer.accept(new WritableStream({ write() {}, close: () => window.cpuMark() }), transit);
    const ms = performance.now() - t0;
    running = false;
    await w.close();
    return { bytes: result.bytes, via: result.via, ms, fps: ((frames - frames0) * 1000) / ms, maxGapMs: maxGap };
  };
  // The transport alone: the relay handshake, then count bytes (no Burrow, no crypto).
  window.receiveBare = (relayUrl, line, total) => new Promise((resolve, reject) => {
    let frames = 0, last = performance.now(), maxGap = 0, running = true;
    const tick = (t) => { frames++; maxGap = Math.max(maxGap, t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const ws = new WebSocket(relayUrl);
    ws.binaryType = 'arraybuffer';
    let got = -3, t0 = 0, frames0 = 0, messages = 0; // the relay says "ok" (3 bytes) first
    ws.onopen = () => ws.send(new TextEncoder().encode(line));
    ws.onerror = () => reject(new Error('bare relay WebSocket failed'));
    ws.onmessage = async (m) => {
      if (got <= 0 && got + m.data.byteLength > 0) { t0 = performance.now(); frames0 = frames; maxGap = 0; }
      got += m.data.byteLength;
      messages++;
      if (got === total) {
        const ms = performance.now() - t0;
        running = false;
        ws.close();
        await window.cpuMark();
        resolve({ bytes: got, via: 'relay', ms, fps: ((frames - frames0) * 1000) / ms, maxGapMs: maxGap, messages });
      }
    };
  });
  // An HTTP response body streamed into the page (fetch), for comparison: no relay, no Burrow.
  window.receiveFetch = async (url) => {
    let frames = 0, last = performance.now(), maxGap = 0, running = true;
    const tick = (t) => { frames++; maxGap = Math.max(maxGap, t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const reader = (await fetch(url)).body.getReader();
    let got = 0, t0 = 0, frames0 = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (got === 0) { t0 = performance.now(); frames0 = frames; maxGap = 0; }
      got += r.value.byteLength;
    }
    const ms = performance.now() - t0;
    running = false;
    await window.cpuMark();
    return { bytes: got, via: 'http', ms, fps: ((frames - frames0) * 1000) / ms, maxGapMs: maxGap };
  };
</script>`;

interface PageResult {
  bytes: number;
  via: string;
  ms: number;
  fps: number;
  maxGapMs: number;
  /** WebSocket messages received (bare bytes only). */
  messages?: number;
}

function transferSeconds(timingFile: string): number {
  const events = JSON.parse(readFileSync(timingFile, 'utf8')) as { name: string; start: number; stop: number | null }[];
  const connected = events.find((e) => e.name === 'transit connected');
  const ack = events.find((e) => e.name === 'get ack');
  if (!connected || !ack) throw new Error(`${timingFile}: no "transit connected" / "get ack" events`);
  return (ack.stop ?? ack.start) - connected.start;
}

const BARE = 'bare bytes TCP→page, gateway relay (no Burrow, no crypto)';
const PAGE = 'CLI→page, gateway relay (Worker pool)';

export async function pageTransferBench(): Promise<void> {
  assertPrivateNetwork();
  const iife = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
  if (!existsSync(iife)) throw new Error(`${iife} is missing: run \`pnpm build\` first`);
  const mb = envNumber('BURROW_BENCH_MB', 100);
  const runs = Math.round(envNumber('BURROW_BENCH_RUNS', 2));
  const timeoutMs = 60_000 + mb * 2_000;
  const total = Math.round(mb * 1e6);
  // Another build of the SDK to compare with in the same run (e.g. one built from an earlier commit).
  const baseline = process.env['BURROW_BENCH_BASELINE_IIFE'];
  const cases = new Set((process.env['BURROW_BENCH_CASES'] || 'bare,page,http,main,fetch').split(',').map((c) => c.trim()));
  if (baseline && !existsSync(baseline)) throw new Error(`BURROW_BENCH_BASELINE_IIFE: ${baseline} is missing`);
  const [mailbox, relay, gateway, site, chromium, bytes] = await Promise.all([
    startMailboxServer(),
    startTransitRelay(),
    startGateway({ port: 0, transitPort: 0 }),
    serveStatic(
      { '/burrow.iife.js': iife, ...(baseline ? { '/baseline/burrow.iife.js': baseline } : {}) },
      { '/': page('/burrow.iife.js'), '/baseline/': page('/baseline/burrow.iife.js') },
    ),
    launchChromium(),
    serveBytes(total),
  ]);
  const dir = makeTempDir('burrow-page-bench-');
  const mbps: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const gaps: Record<string, number[]> = {};
  const fps: Record<string, number[]> = {};
  const messageKiB: number[] = [];
  try {
    const file = join(dir, 'f.bin');
    randomFile(file, Math.round(mb * 1e6));
    const cliToCli = async () => {
      const out = makeTempDir('burrow-page-bench-out-');
      try {
        const timing = join(out, 'timing.json');
        const opts = { relayUrl: mailbox.url, transitHelper: relay.hint, timeoutMs };
        const s = runWormhole(['--dump-timing', timing, 'send', '--no-listen', '--hide-progress', file], { ...opts, cwd: dir });
        const r = runWormhole(['receive', '--no-listen', '--accept-file', '--hide-progress', '-o', join(out, 'x'), await s.code], { ...opts, cwd: out });
        const [sr, rr] = await Promise.all([s.result, r.result]);
        if (sr.exitCode !== 0 || rr.exitCode !== 0) throw new Error(`CLI→CLI failed:\n${sr.stderr}\n${rr.stderr}`);
        return mb / transferSeconds(timing);
      } finally {
        removeDir(out);
      }
    };
    /** A page whose `cpuMark()` (called once all bytes are in, before anything exits) snapshots the CPU of every process. */
    const newPage = async () => {
      const page = await chromium.newPage();
      let mark: ReturnType<typeof cpuSnapshot> | undefined;
      await page.exposeFunction('cpuMark', () => void (mark = cpuSnapshot()));
      return { page, spent: (before: ReturnType<typeof cpuSnapshot>) => cpuSpent(before, mark ?? cpuSnapshot()) };
    };
    const cliToPage = async (noWorkers: boolean, path = '', http = false) => {
      const { page, spent } = await newPage();
      try {
        await page.goto(new URL(path, site.url).href);
        const timing = join(dir, 'timing.json');
        const s = runWormhole(['--dump-timing', timing, 'send', '--hide-progress', file], { relayUrl: gateway.url, cwd: dir, timeoutMs });
        const code = await s.code;
        const before = cpuSnapshot();
        const got = (await page.evaluate(
          ([url, c, nw, h]) =>
            (window as unknown as { receiveDiscard(u: string, c: string, nw: boolean, h: boolean): Promise<PageResult> }).receiveDiscard(url, c, nw, h),
          [gateway.url, code, noWorkers, http] as const,
        )) as PageResult;
        const sr = await s.result;
        if (sr.exitCode !== 0) throw new Error(`CLI send to the page failed:\n${sr.stderr}`);
        if (got.via !== 'relay' || got.bytes !== Math.round(mb * 1e6)) throw new Error(`page got ${JSON.stringify(got)}`);
        return { mbps: mb / transferSeconds(timing), gap: got.maxGapMs, fps: got.fps, cpu: spent(before) };
      } finally {
        await page.close();
      }
    };
    /** The same number of bytes as an HTTP response body, fetched by the page (no relay). */
    const fetchToPage = async () => {
      const { page, spent } = await newPage();
      try {
        await page.goto(site.url);
        const before = cpuSnapshot();
        const r = (await page.evaluate((url) => (window as unknown as { receiveFetch(u: string): Promise<PageResult> }).receiveFetch(url), bytes.url)) as PageResult;
        if (r.bytes !== total) throw new Error(`fetch got ${r.bytes} bytes`);
        return { mbps: mb / (r.ms / 1000), gap: r.maxGapMs, fps: r.fps, cpu: spent(before) };
      } finally {
        await page.close();
      }
    };
    /** Bare bytes from a TCP client through the gateway relay into the page's WebSocket. */
    const bareToPage = async () => {
      const { page, spent } = await newPage();
      try {
        await page.goto(site.url);
        const token = randomBytes(32).toString('hex');
        const before = cpuSnapshot();
        const got = page.evaluate(
          ([url, line, n]) => (window as unknown as { receiveBare(u: string, l: string, n: number): Promise<PageResult> }).receiveBare(url, line, n),
          [gateway.relayUrl, `please relay ${token} for side ${'a'.repeat(16)}\n`, total] as const,
        ) as Promise<PageResult>;
        await sendBare(gateway.transitHint!, `please relay ${token} for side ${'b'.repeat(16)}\n`, total);
        const r = await got;
        messageKiB.push(total / (r.messages ?? 1) / 1024);
        return { mbps: mb / (r.ms / 1000), gap: r.maxGapMs, fps: r.fps, cpu: spent(before) };
      } finally {
        await page.close();
      }
    };
    const push = (name: string, r: { mbps: number; gap: number; fps: number; cpu: Record<string, number> }) => {
      (mbps[name] ??= []).push(r.mbps);
      (gaps[name] ??= []).push(r.gap);
      (fps[name] ??= []).push(r.fps);
      const per100 = 100 / mb;
      const chromium = Object.entries(r.cpu).filter(([k]) => k.startsWith('chromium'));
      (cpu[`${name}: all`] ??= []).push(Object.values(r.cpu).reduce((a, b) => a + b, 0) * per100);
      (cpu[`${name}: Chromium`] ??= []).push(chromium.reduce((a, [, v]) => a + v, 0) * per100);
      (cpu[`${name}: Chromium renderer`] ??= []).push((r.cpu['chromium renderer'] ?? 0) * per100);
    };
    for (let i = 0; i < runs; i++) {
      (mbps['CLI→CLI, Debian relay'] ??= []).push(await cliToCli());
      if (cases.has('bare')) push(BARE, await bareToPage());
      if (cases.has('page')) push(PAGE, await cliToPage(false));
      if (cases.has('http')) push(`${PAGE} over the relay's HTTP stream`, await cliToPage(false, '', true));
      if (cases.has('main')) push('CLI→page, gateway relay (main-thread crypto)', await cliToPage(true));
      if (baseline) push('CLI→page, gateway relay (baseline build)', await cliToPage(false, 'baseline/'));
      if (cases.has('fetch')) push('bare bytes HTTP→page (fetch of a streamed response, no relay)', await fetchToPage());
    }
  } finally {
    removeDir(dir);
    await chromium.close();
    await site.close();
    await bytes.close();
    await Promise.allSettled([gateway.close(), mailbox.stop(), relay.stop()]);
  }
  const rows = (m: Record<string, number[]>, unit: string): Sample[] => Object.entries(m).map(([name, values]) => ({ name, values, unit }));
  report(`A page receiving ${mb} MB from the CLI through the gateway relay (CLI sender: transit connected → ack)`, rows(mbps, 'MB/s'), 'CLI→CLI, Debian relay', true);
  if (messageKiB.length) report(`Mean size of the relay's WebSocket messages to the page (bare bytes)`, [{ name: BARE, values: messageKiB, unit: 'KiB' }], BARE);
  const pageBase = PAGE in gaps ? PAGE : Object.keys(gaps)[0];
  if (pageBase === undefined) return;
  report(`The page's main thread during those transfers: longest gap between animation frames`, rows(gaps, 'ms'), pageBase);
  report(`… and animation frames per second`, rows(fps, 'fps'), pageBase, true);
  report(
    `CPU seconds per 100 MB (user + system: all = Chromium + CLI sender + this process with the gateway; machine load ${loadavg()[0]!.toFixed(1)})`,
    rows(cpu, 's'),
    `${BARE in gaps ? BARE : pageBase}: all`,
  );
}

/** An HTTP server streaming `total` bytes (64 KiB writes, with backpressure) to any origin. */
async function serveBytes(total: number): Promise<{ url: string; close(): Promise<void> }> {
  const chunk = randomBytes(64 * 1024);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'access-control-allow-origin': '*' });
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(chunk.length, left);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/bytes`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Write `total` bytes after the relay handshake `line` (and its "ok\n"), then close. */
async function sendBare(hint: string, line: string, total: number): Promise<void> {
  const m = /^tcp:([^:]+):(\d+)$/.exec(hint);
  if (!m) throw new Error(`bad transit hint ${hint}`);
  const socket = connect(Number(m[2]), m[1]);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(line);
  await new Promise<void>((resolve, reject) => socket.once('data', () => resolve()).once('error', reject));
  const chunk = randomBytes(64 * 1024);
  for (let left = total; left > 0; left -= chunk.length) {
    if (!socket.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

