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
 * BURROW_BENCH_MB (default 100) and BURROW_BENCH_RUNS (default 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway } from '@burrow/gateway';
import {
  assertPrivateNetwork,
  makeTempDir,
  randomFile,
  removeDir,
  runWormhole,
  startMailboxServer,
  startTransitRelay,
} from '@burrow/testkit';
import { launchBrowser } from '../e2e/support/driver.js';
import { repoPath, serveStatic } from '../e2e/support/static-server.js';
import { envNumber, report, type Sample } from './lib.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow page transfer bench</title>
<script src="/burrow.iife.js"></script>
<script>
  // Receive one file into nothing; meanwhile count animation frames and the longest gap between two.
  window.receiveDiscard = async (mailbox, code, noWorkers) => {
    if (noWorkers) delete window.Worker;
    let frames = 0, last = performance.now(), maxGap = 0, running = true;
    const tick = (t) => { frames++; maxGap = Math.max(maxGap, t - last); last = t; if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const offer = await Burrow.receiveOffer(w, { signal: AbortSignal.timeout(300000) });
    if (offer.type !== 'file') throw new Error('expected a file, got ' + offer.type);
    const t0 = performance.now();
    const frames0 = frames;
    maxGap = 0;
    const result = await offer.accept(new WritableStream({ write() {} }));
    const ms = performance.now() - t0;
    running = false;
    await w.close();
    return { bytes: result.bytes, via: result.via, ms, fps: ((frames - frames0) * 1000) / ms, maxGapMs: maxGap };
  };
</script>`;

interface PageResult {
  bytes: number;
  via: string;
  ms: number;
  fps: number;
  maxGapMs: number;
}

function transferSeconds(timingFile: string): number {
  const events = JSON.parse(readFileSync(timingFile, 'utf8')) as { name: string; start: number; stop: number | null }[];
  const connected = events.find((e) => e.name === 'transit connected');
  const ack = events.find((e) => e.name === 'get ack');
  if (!connected || !ack) throw new Error(`${timingFile}: no "transit connected" / "get ack" events`);
  return (ack.stop ?? ack.start) - connected.start;
}

export async function pageTransferBench(): Promise<void> {
  assertPrivateNetwork();
  const iife = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
  if (!existsSync(iife)) throw new Error(`${iife} is missing: run \`pnpm build\` first`);
  const mb = envNumber('BURROW_BENCH_MB', 100);
  const runs = Math.round(envNumber('BURROW_BENCH_RUNS', 2));
  const timeoutMs = 60_000 + mb * 2_000;
  const [mailbox, relay, gateway, site, chromium] = await Promise.all([
    startMailboxServer(),
    startTransitRelay(),
    startGateway({ port: 0, transitPort: 0 }),
    serveStatic({ '/burrow.iife.js': iife }, { '/': PAGE }),
    launchBrowser('chromium'),
  ]);
  const dir = makeTempDir('burrow-page-bench-');
  const mbps: Record<string, number[]> = {};
  const gaps: Record<string, number[]> = {};
  const fps: Record<string, number[]> = {};
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
    const cliToPage = async (noWorkers: boolean) => {
      const page = await chromium.newPage();
      try {
        await page.goto(site.url);
        const timing = join(dir, 'timing.json');
        const s = runWormhole(['--dump-timing', timing, 'send', '--hide-progress', file], { relayUrl: gateway.url, cwd: dir, timeoutMs });
        const code = await s.code;
        const got = (await page.evaluate(
          ([url, c, nw]) => (window as unknown as { receiveDiscard(u: string, c: string, nw: boolean): Promise<PageResult> }).receiveDiscard(url, c, nw),
          [gateway.url, code, noWorkers] as const,
        )) as PageResult;
        const sr = await s.result;
        if (sr.exitCode !== 0) throw new Error(`CLI send to the page failed:\n${sr.stderr}`);
        if (got.via !== 'relay' || got.bytes !== Math.round(mb * 1e6)) throw new Error(`page got ${JSON.stringify(got)}`);
        return { mbps: mb / transferSeconds(timing), gap: got.maxGapMs, fps: got.fps };
      } finally {
        await page.close();
      }
    };
    const push = (name: string, r: { mbps: number; gap: number; fps: number }) => {
      (mbps[name] ??= []).push(r.mbps);
      (gaps[name] ??= []).push(r.gap);
      (fps[name] ??= []).push(r.fps);
    };
    for (let i = 0; i < runs; i++) {
      (mbps['CLI→CLI, Debian relay'] ??= []).push(await cliToCli());
      push('CLI→page, gateway relay (Worker pool)', await cliToPage(false));
      push('CLI→page, gateway relay (main-thread crypto)', await cliToPage(true));
    }
  } finally {
    removeDir(dir);
    await chromium.close();
    await site.close();
    await Promise.allSettled([gateway.close(), mailbox.stop(), relay.stop()]);
  }
  const rows = (m: Record<string, number[]>, unit: string): Sample[] => Object.entries(m).map(([name, values]) => ({ name, values, unit }));
  report(`A page receiving ${mb} MB from the CLI through the gateway relay (CLI sender: transit connected → ack)`, rows(mbps, 'MB/s'), 'CLI→CLI, Debian relay', true);
  report(
    `The page's main thread during those transfers: longest gap between animation frames`,
    rows(gaps, 'ms'),
    'CLI→page, gateway relay (Worker pool)',
  );
  report(`… and animation frames per second`, rows(fps, 'fps'), 'CLI→page, gateway relay (Worker pool)', true);
}
