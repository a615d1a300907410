/**
 * Issue 5 benchmarks (connect()): stream throughput through Burrow against
 * a raw RTCDataChannel pair doing the same thing by hand (64 KiB messages,
 * Burrow's bufferedAmount watermarks), in the same Chromium run
 * (two contexts) and in Node (node-datachannel); and the time from both
 * sides holding the code to the first byte over connect(), against the
 * CLI's text round trip on the same Debian mailbox.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_WATERMARKS, createWormhole, type RTCPeerConnectionConstructor, type WebSocketConstructor } from '@burrow/client';
import { webrtcConnector, type Signalling } from '@burrow/client/testing';
import { launchChromium, runWormhole, startMailboxServer } from '@burrow/testkit';
import { repoPath, serveStatic } from '../e2e/support/static-server.js';
import { WEBRTC_PAGE } from '../e2e/support/webrtc-page.js';
import { repeat, report } from './lib.js';
import { RAW_CHANNEL_JS } from './raw-channel.js';

const MiB = 1024 * 1024;
// node-datachannel is a devDependency of @burrow/client: resolve it from there.
const requireFromClient = createRequire(repoPath('packages', 'client', 'package.json'));
let RTC: RTCPeerConnectionConstructor;
/** node-datachannel's RTCPeerConnection, once {@link loadNodeDataChannel} ran. */
export const rtcConstructor = (): RTCPeerConnectionConstructor => RTC;
export async function loadNodeDataChannel(): Promise<void> {
  const mod = (await import(requireFromClient.resolve('node-datachannel/polyfill'))) as { RTCPeerConnection?: unknown; default?: { RTCPeerConnection?: unknown } };
  RTC = (mod.RTCPeerConnection ?? mod.default?.RTCPeerConnection) as RTCPeerConnectionConstructor;
}
const WS = WebSocket as unknown as WebSocketConstructor;

/** Extra page functions: one Burrow stream, and the raw data channel baseline (signalled through Node). */
const BENCH_SCRIPT = `<script>
  const BCHUNK = 65536;
  const bblock = new Uint8Array(BCHUNK); crypto.getRandomValues(bblock);
  // Like the raw channel, the stream is open at both ends before the clock starts.
  let bwriter, breader;
  window.burrowOpen = async () => {
    const s = await conn.openStream(); s.readable.cancel().catch(() => {});
    bwriter = s.writable.getWriter(); await bwriter.ready;
  };
  window.burrowAccept = async () => {
    const r = await conn.incoming[Symbol.asyncIterator]().next();
    r.value.writable.close().catch(() => {});
    breader = r.value.readable.getReader();
  };
  window.burrowSend = async (bytes) => {
    for (let sent = 0; sent < bytes; sent += BCHUNK) await bwriter.write(bblock);
    await bwriter.close();
  };
  window.burrowRecv = async () => {
    let n = 0;
    for (;;) { const { value, done } = await breader.read(); if (done) return n; n += value.length; }
  };
  // The raw baseline: one data channel, by hand.
${RAW_CHANNEL_JS}</script>`;

type Fn = (...args: unknown[]) => Promise<unknown>;
const ev = <R>(p: Page, name: string, ...args: unknown[]): Promise<R> =>
  p.evaluate(([n, a]) => ((window as unknown as Record<string, Fn>)[n as string]!(...(a as unknown[])) as Promise<R>), [name, args] as const) as Promise<R>;

export async function browserThroughput(mailboxUrl: string, bytes: number, runs: number): Promise<{ raw: number[]; burrow: number[] }> {
  const iife = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
  if (!existsSync(iife)) throw new Error('run `pnpm build` first (the IIFE is missing)');
  const site = await serveStatic({ '/burrow.iife.js': iife }, { '/': WEBRTC_PAGE + BENCH_SCRIPT });
  const browser: Browser = await launchChromium();
  const pages = async () => {
    const out: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const ctx = await browser.newContext();
      await ctx.grantPermissions(['microphone']);
      const p = await ctx.newPage();
      await p.goto(site.url);
      out.push(p);
    }
    return out as [Page, Page];
  };
  const raw: number[] = [];
  const burrow: number[] = [];
  const rawRun = async () => {
    const [a, b] = await pages();
    const answer = await ev<unknown>(b, 'rawAnswer', await ev<unknown>(a, 'rawOffer'));
    await ev(a, 'rawFinish', answer);
    await ev(b, 'rawReady');
    const t0 = performance.now();
    await Promise.all([ev(a, 'rawSend', bytes), ev(b, 'rawRecv', bytes)]);
    const mbps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    await Promise.all([a.context().close(), b.context().close()]);
    return mbps;
  };
  // Burrow: w.connect() between the same kind of pages, one stream.
  const burrowRun = async () => {
    const [a, b] = await pages();
    const code = await ev<string>(a, 'setup', mailboxUrl);
    await ev(b, 'setup', mailboxUrl, code);
    const connected = await Promise.all([ev<{ error?: unknown }>(a, 'connect', {}), ev<{ error?: unknown }>(b, 'connect', {})]);
    if (connected.some((c) => c.error)) throw new Error(`connect() failed: ${JSON.stringify(connected)}`);
    await Promise.all([ev(a, 'burrowOpen'), ev(b, 'burrowAccept')]);
    const t0 = performance.now();
    await Promise.all([ev(a, 'burrowSend', bytes), ev(b, 'burrowRecv')]);
    const mbps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    await Promise.all([ev(a, 'closeAll').catch(() => { /* best-effort teardown: it may be closed already */ }), ev(b, 'closeAll').catch(() => { /* best-effort teardown: it may be closed already */ })]);
    await Promise.all([a.context().close(), b.context().close()]);
    return mbps;
  };
  try {
    for (let i = 0; i <= runs; i++) {
      process.stderr.write(`webrtc bench: browser run ${i}/${runs}\n`);
      const [r, b] = await alternate(i, rawRun, burrowRun);
      if (i > 0) raw.push(r), burrow.push(b);
    }
  } finally {
    await browser.close();
    await site.close();
  }
  return { raw, burrow };
}

/**
 * Run both cases of run `i`, raw first on even runs and Burrow first on odd
 * ones, so that a drift in the machine's load does not favour one of them.
 */
async function alternate(i: number, raw: () => Promise<number>, burrow: () => Promise<number>): Promise<[number, number]> {
  if (i % 2 === 0) {
    const r = await raw();
    return [r, await burrow()];
  }
  const b = await burrow();
  return [await raw(), b];
}

/** In-process signalling for Node↔Node. */
function signallingPair(): [Signalling, Signalling] {
  const queues: [Record<string, unknown>[], Record<string, unknown>[]] = [[], []];
  const waiters: [((v: Record<string, unknown>) => void)[], ((v: Record<string, unknown>) => void)[]] = [[], []];
  const end = (me: 0 | 1): Signalling => ({
    send(body) {
      const other = (1 - me) as 0 | 1;
      const w = waiters[other].shift();
      if (w) w(structuredClone(body));
      else queues[other].push(structuredClone(body));
    },
    next() {
      const q = queues[me].shift();
      return q ? Promise.resolve(q) : new Promise((r) => waiters[me].push(r));
    },
  });
  return [end(0), end(1)];
}

/**
 * Send `bytes` in `block`-sized messages on a raw data channel the way
 * Burrow's channel paces itself (DEFAULT_WATERMARKS): above the high mark
 * buffered, wait until it is down to the low one (the event, or polling).
 */
export async function sendRaw(dc: RTCDataChannel, block: Uint8Array, bytes: number): Promise<void> {
  const { high, low, pollMs } = DEFAULT_WATERMARKS;
  dc.bufferedAmountLowThreshold = low;
  for (let sent = 0; sent < bytes; sent += block.length) {
    if (dc.bufferedAmount > high) {
      await new Promise<void>((r) => {
        const t = setInterval(() => dc.bufferedAmount <= low && (clearInterval(t), r()), pollMs);
        dc.addEventListener('bufferedamountlow', () => (clearInterval(t), r()), { once: true });
      });
    }
    dc.send(block as Uint8Array<ArrayBuffer>);
  }
}

/** One timed run of each Node↔Node baseline: a raw RTCDataChannel pair, and one Burrow connect() stream; each resolves with MB/s. */
export function nodeRuns(bytes: number): { raw: () => Promise<number>; burrow: () => Promise<number> } {
  const block = new Uint8Array(64 * 1024).fill(7);
  const config = { iceServers: [], bindAddress: '127.0.0.1' } as unknown as RTCConfiguration;
  const rawRun = async () => {
    const a = new RTC(config);
    const b = new RTC(config);
    a.addEventListener('icecandidate', (e) => {
      const c = (e as RTCPeerConnectionIceEvent).candidate;
      if (c?.candidate) b.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid }).catch(() => { /* a late candidate after close: the run measures throughput, not ICE */ });
    });
    b.addEventListener('icecandidate', (e) => {
      const c = (e as RTCPeerConnectionIceEvent).candidate;
      if (c?.candidate) a.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid }).catch(() => { /* a late candidate after close: the run measures throughput, not ICE */ });
    });
    const dc = a.createDataChannel('raw');
    const gotChannel = new Promise<RTCDataChannel>((r) => b.addEventListener('datachannel', (e) => r((e as RTCDataChannelEvent).channel)));
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    if (dc.readyState !== 'open') await new Promise((r) => dc.addEventListener('open', r, { once: true }));
    const rx = await gotChannel;
    const t0 = performance.now();
    const received = new Promise<void>((resolve) => {
      let n = 0;
      rx.addEventListener('message', (e) => {
        n += ((e as MessageEvent).data as ArrayBuffer).byteLength;
        if (n >= bytes) resolve();
      });
    });
    await sendRaw(dc, block, bytes);
    await received;
    const mbps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    a.close();
    b.close();
    return mbps;
  };
  const burrowRun = async () => {
    const c = webrtcConnector({ RTCPeerConnection: RTC, rtcConfiguration: { bindAddress: '127.0.0.1' } });
    const [sa, sb] = signallingPair();
    const key = async () => new Uint8Array(32);
    const [x, y] = await Promise.all([c.connect({ role: 'leader', signalling: sa, deriveKey: key }), c.connect({ role: 'follower', signalling: sb, deriveKey: key })]);
    // Like the raw channel, the stream is open at both ends before the clock starts.
    const [s, t] = await Promise.all([x.openStream(), y.incoming[Symbol.asyncIterator]().next().then((r) => r.value!)]);
    void s.readable.cancel();
    void t.writable.close();
    const t0 = performance.now();
    const recv = (async () => {
      let n = 0;
      for await (const chunk of t.readable as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
      return n;
    })();
    const w = s.writable.getWriter();
    for (let sent = 0; sent < bytes; sent += block.length) await w.write(block);
    await w.close();
    await recv;
    const mbps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    await Promise.all([x.close(), y.close()]);
    return mbps;
  };
  return { raw: rawRun, burrow: burrowRun };
}

export async function nodeThroughput(bytes: number, runs: number): Promise<{ raw: number[]; burrow: number[] }> {
  const { raw: rawRun, burrow: burrowRun } = nodeRuns(bytes);
  const raw: number[] = [];
  const burrow: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const [r, b] = await alternate(i, rawRun, burrowRun);
    if (i > 0) raw.push(r), burrow.push(b);
  }
  return { raw, burrow };
}

/** Report a Burrow stream's throughput against the raw RTCDataChannel's, measured in the same run. */
function reportThroughput(title: string, runs: { readonly raw: readonly number[]; readonly burrow: readonly number[] }): void {
  report(
    title,
    [
      { name: 'raw RTCDataChannel', values: runs.raw, unit: 'MB/s' },
      { name: 'Burrow stream', values: runs.burrow, unit: 'MB/s' },
    ],
    'raw RTCDataChannel',
    true,
  );
}

export async function webrtcBench(): Promise<void> {
  await loadNodeDataChannel();
  const mailbox = await startMailboxServer();
  try {
    const node = await nodeThroughput(64 * MiB, 7);
    reportThroughput('Stream throughput Node↔Node (node-datachannel, 64 MiB, one stream, 7 runs)', node);
    const browser = await browserThroughput(mailbox.url, 48 * MiB, 7);
    reportThroughput('Stream throughput Chromium↔Chromium (two contexts, 48 MiB, one stream, 7 runs)', browser);

    // Connect time: both sides hold the code → first byte over connect(), vs the CLI's text round trip.
    let n = 300;
    const runs = 6;
    const connectFirstByte = await repeat(runs, async () => {
      const [a, b] = await Promise.all([
        createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC }),
        createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC }),
      ]);
      const code = `${n++}-bench-connect`;
      const t0 = performance.now();
      a.setCode(code);
      b.setCode(code);
      const opts = { rtcConfiguration: { bindAddress: '127.0.0.1' } };
      const [ca, cb] = await Promise.all([a.connect(opts), b.connect(opts)]);
      const s = await ca.openStream();
      void s.writable.getWriter().write(new Uint8Array([1]));
      const t = (await cb.incoming[Symbol.asyncIterator]().next()).value!;
      await t.readable.getReader().read();
      const ms = performance.now() - t0;
      await Promise.all([ca.close(), cb.close()]);
      await Promise.all([a.close(), b.close()]);
      return ms;
    });
    const textRoundTrip = await repeat(runs, async () => {
      const [a, b] = await Promise.all([createWormhole({ mailbox: mailbox.url, WebSocket: WS }), createWormhole({ mailbox: mailbox.url, WebSocket: WS })]);
      const code = `${n++}-bench-text`;
      const t0 = performance.now();
      a.setCode(code);
      b.setCode(code);
      await Promise.all([a.sendText('x'), b.receiveText()]);
      const ms = performance.now() - t0;
      await Promise.all([a.close(), b.close()]);
      return ms;
    });
    const cli = await repeat(runs, async () => {
      const code = `${n++}-bench-cli`;
      const t0 = performance.now();
      const s = runWormhole(['send', '--code', code, '--text', 'x'], { relayUrl: mailbox.url, stdin: '' });
      const r = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
      const res = await r.result;
      const ms = performance.now() - t0;
      await s.result;
      if (res.stdout !== 'x\n') throw new Error(`CLI↔CLI failed: ${res.stderr}`);
      return ms;
    });
    const startup = await repeat(runs, async () => {
      const t0 = performance.now();
      execFileSync('wormhole', ['--version'], { stdio: 'ignore' });
      return performance.now() - t0;
    });
    report(
      'From both sides holding the code to the first byte (same local Debian mailbox)',
      [
        { name: 'CLI↔CLI text', values: cli, unit: 'ms' },
        { name: 'Burrow text (Node)', values: textRoundTrip, unit: 'ms' },
        { name: 'Burrow connect()→first byte (Node, WebRTC)', values: connectFirstByte, unit: 'ms' },
        { name: '(CLI start-up alone)', values: startup, unit: 'ms' },
      ],
      'CLI↔CLI text',
    );
  } finally {
    await mailbox.stop();
  }
}
