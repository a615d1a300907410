/**
 * Issue 8 benchmark: connect() stream throughput between browsers of
 * different makes, next to Chromium ↔ Chromium measured in the same run.
 * Two pages (each in its own browser context; Firefox via puppeteer-core,
 * Chromium via playwright-core) meet through an in-process gateway,
 * connect() over WebRTC on loopback, and move data one way: one stream,
 * then four concurrent streams sharing the same total. Beside each pair, a
 * raw RTCDataChannel pair between the same two browsers (64 KiB messages,
 * Burrow's bufferedAmount watermarks, signalled through Node) shows
 * what the browsers themselves manage, so Burrow's share is visible.
 *
 *   import { browsersBench } from './browsers.js';
 *   await browsersBench();   // prints a table of MB/s and ratios
 */
import { existsSync } from 'node:fs';
import { startGateway } from '@burrow/gateway';
import { launchBrowser, type BrowserKind, type Driver, type DriverPage } from '../e2e/support/driver.js';
import { repoPath, serveStatic } from '../e2e/support/static-server.js';
import { WEBRTC_PAGE } from '../e2e/support/webrtc-page.js';
import { repeat, report, type Sample } from './lib.js';
import { RAW_CHANNEL_JS } from './raw-channel.js';

const MiB = 1024 * 1024;
const BYTES = 12 * MiB;
const RUNS = 3;

/** Page functions on top of the connect() test page: send `bytes` over `n` concurrent streams; read `n` streams. */
const BENCH_SCRIPT = `<script>
  const BCHUNK = 65536;
  const bblock = new Uint8Array(BCHUNK); crypto.getRandomValues(bblock);
  window.benchSend = async (n, bytes) => {
    await Promise.all(Array.from({ length: n }, async () => {
      const s = await conn.openStream(); s.readable.cancel().catch(() => { /* best-effort teardown: it may be closed already */ });
      const w = s.writable.getWriter();
      for (let sent = 0; sent < bytes / n; sent += BCHUNK) await w.write(bblock);
      await w.close();
    }));
  };
  window.benchRecv = async (n) => {
    const it = conn.incoming[Symbol.asyncIterator]();
    const reads = [];
    for (let i = 0; i < n; i++) {
      const s = (await it.next()).value;
      s.writable.close().catch(() => { /* best-effort teardown: it may be closed already */ });
      reads.push((async () => { const r = s.readable.getReader(); let got = 0; for (;;) { const { value, done } = await r.read(); if (done) return got; got += value.length; } })());
    }
    return (await Promise.all(reads)).reduce((a, b) => a + b, 0);
  };
  // The raw baseline: one data channel, by hand.
${RAW_CHANNEL_JS}</script>`;

type Win = {
  setup(mailbox: string, code?: string): Promise<string>;
  connect(opts: unknown): Promise<{ kind?: string; error?: unknown }>;
  benchSend(n: number, bytes: number): Promise<void>;
  benchRecv(n: number): Promise<number>;
  closeAll(): Promise<void>;
  rawOffer(): Promise<unknown>;
  rawAnswer(offer: unknown): Promise<unknown>;
  rawFinish(answer: unknown): Promise<void>;
  rawReady(): Promise<void>;
  rawSend(bytes: number): Promise<void>;
  rawRecv(bytes: number): Promise<number>;
  rawClose(): void;
};

/** MB/s of a raw data channel from `a` to `b` (fresh pages, signalled through Node). */
async function rawThroughput(a: DriverPage, b: DriverPage): Promise<number[]> {
  const offer = await a.evaluate(() => (window as unknown as Win).rawOffer(), undefined);
  const answer = await b.evaluate((o) => (window as unknown as Win).rawAnswer(o), offer);
  await a.evaluate((x) => (window as unknown as Win).rawFinish(x), answer);
  await b.evaluate(() => (window as unknown as Win).rawReady(), undefined);
  const ms = await repeat(RUNS, async () => {
    const t0 = performance.now();
    await Promise.all([
      b.evaluate((n) => (window as unknown as Win).rawRecv(n), BYTES),
      a.evaluate((n) => (window as unknown as Win).rawSend(n), BYTES),
    ]);
    return performance.now() - t0;
  });
  await Promise.all([a, b].map((p) => p.evaluate(() => (window as unknown as Win).rawClose(), undefined)));
  return ms.map((t) => BYTES / 1e6 / (t / 1000));
}

/** MB/s for `bytes` over `streams` streams from `a` to `b`, `runs` times after a warm-up. */
async function throughput(a: DriverPage, b: DriverPage, streams: number): Promise<number[]> {
  const ms = await repeat(RUNS, async () => {
    const t0 = performance.now();
    const [got] = await Promise.all([
      b.evaluate((n) => (window as unknown as Win).benchRecv(n), streams),
      a.evaluate(([n, bytes]) => (window as unknown as Win).benchSend(n, bytes), [streams, BYTES] as const),
    ]);
    if (got !== BYTES) throw new Error(`received ${got} of ${BYTES} bytes`);
    return performance.now() - t0;
  });
  return ms.map((t) => BYTES / 1e6 / (t / 1000));
}

export async function browsersBench(): Promise<void> {
  const iife = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
  if (!existsSync(iife)) throw new Error(`${iife} is missing: run \`pnpm build\` first`);
  const [gateway, site, chromium, firefox] = await Promise.all([
    startGateway({ port: 0, transitPort: null }),
    serveStatic({ '/burrow.iife.js': iife }, { '/': WEBRTC_PAGE + BENCH_SCRIPT }),
    launchBrowser('chromium'),
    launchBrowser('firefox'),
  ]);
  const drivers: Record<BrowserKind, Driver> = { chromium, firefox };
  const pairs: [BrowserKind, BrowserKind][] = [
    ['chromium', 'chromium'],
    ['firefox', 'chromium'],
    ['chromium', 'firefox'],
  ];
  const samples: Sample[] = [];
  try {
    for (const [from, to] of pairs) {
      process.stderr.write(`browsers bench: ${from} → ${to}\n`);
      {
        const [a, b] = await Promise.all([drivers[from].newPage(), drivers[to].newPage()]);
        try {
          await Promise.all([a.goto(site.url), b.goto(site.url)]);
          samples.push({ name: `${from} → ${to}, raw data channel`, values: await rawThroughput(a, b), unit: 'MB/s' });
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      }
      const [a, b] = await Promise.all([drivers[from].newPage(), drivers[to].newPage()]);
      try {
        await Promise.all([a.goto(site.url), b.goto(site.url)]);
        const code = await a.evaluate((m) => (window as unknown as Win).setup(m), gateway.url);
        await b.evaluate(([m, c]) => (window as unknown as Win).setup(m, c), [gateway.url, code] as const);
        const kinds = await Promise.all([a, b].map((p) => p.evaluate(() => (window as unknown as Win).connect({}), undefined)));
        if (kinds.some((k) => k.kind !== 'webrtc')) throw new Error(`${from} → ${to}: connect() gave ${JSON.stringify(kinds)}`);
        for (const streams of [1, 4]) {
          samples.push({ name: `${from} → ${to}, Burrow ${streams} stream${streams > 1 ? 's' : ''}`, values: await throughput(a, b, streams), unit: 'MB/s' });
        }
        await Promise.all([a, b].map((p) => p.evaluate(() => (window as unknown as Win).closeAll(), undefined).catch(() => { /* best-effort teardown: it may be closed already */ })));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }
  } finally {
    await Promise.all([chromium.close(), firefox.close()]);
    await site.close();
    await gateway.close();
  }
  report(`connect() stream throughput across browsers (${BYTES / MiB} MiB one way, WebRTC on loopback)`, samples, 'chromium → chromium, Burrow 1 stream', true);
}
