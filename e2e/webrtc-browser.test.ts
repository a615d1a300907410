// connect() in headless Chromium: two pages meet with a code through the
// gateway and stream over WebRTC data channels (two contexts of one browser,
// and two browser processes), through coturn with relay-only ICE, falling
// back to the gateway relay when ICE cannot succeed, and a page ↔ a Node
// peer on node-datachannel. Loopback only, in a private netns.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { assertPrivateNetwork, cleanup, freePort, launchChromium, makeTempDir, onCleanup, waitFor } from '@burrow/testkit';
import { createWormhole, type RTCPeerConnectionConstructor, type WebSocketConstructor } from '@burrow/client';
import { startGateway, type Gateway } from '@burrow/gateway';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';
import { WEBRTC_PAGE, type ExchangeResult, type PageConnectResult } from './support/webrtc-page.js';
import { bothSides } from './support/driver.js';

const IIFE = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
const MiB = 1024 * 1024;

type Win = {
  setup(mailbox: string, code?: string): Promise<string>;
  connect(opts: unknown): Promise<PageConnectResult>;
  exchange(n: number, bytes: number): Promise<ExchangeResult>;
  stats(): Promise<ExchangeResult['stats']>;
  closeAll(): Promise<void>;
};
const win = (p: Page) => p as unknown as { evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> };
const call = {
  setup: (p: Page, mailbox: string, code?: string) => win(p).evaluate(([m, c]) => (window as unknown as Win).setup(m!, c), [mailbox, code] as const),
  connect: (p: Page, opts: unknown) => win(p).evaluate((o) => (window as unknown as Win).connect(o), opts),
  exchange: (p: Page, n: number, bytes: number) => win(p).evaluate(([n2, b]) => (window as unknown as Win).exchange(n2, b), [n, bytes] as const),
  closeAll: (p: Page) => win(p).evaluate(() => (window as unknown as Win).closeAll(), undefined),
};

/** Start coturn on loopback (DESIGN.md §5 flags) with a log we can read its counters from. */
async function startCoturn(): Promise<{ url: string; username: string; credential: string; log(): string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = makeTempDir('burrow-coturn-');
  const logFile = join(dir, 'turn.log');
  const args = [
    '-n', `--listening-port=${port}`, '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', '--lt-cred-mech', '--user=burrow:secret',
    '--realm=burrow.test', '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers', '--verbose', `--log-file=${logFile}`, '--simple-log',
    '--no-stdout-log', `--pidfile=${join(dir, 'turn.pid')}`, '--min-port=49152', '--max-port=65535',
  ];
  const child = spawn('turnserver', args, { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  onCleanup(stop);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await waitFor(() => (/listener opened on/i.test(log()) || /Total General servers/i.test(log()) ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, message: 'coturn start' });
  return { url: `turn:127.0.0.1:${port}?transport=udp`, username: 'burrow', credential: 'secret', log, stop };
}

describe('connect() between Chromium pages', () => {
  let gateway: Gateway;
  let site: StaticServer;
  let browser: Browser;
  let pages: Page[] = [];

  const newPage = async (b: Browser = browser): Promise<Page> => {
    const context = await b.newContext();
    await context.grantPermissions(['microphone']);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(site.url);
    pages.push(page);
    return page;
  };
  /** Two pages meet through the gateway mailbox and connect() with the same options. */
  const meet = async (a: Page, b: Page, opts: unknown): Promise<[PageConnectResult, PageConnectResult]> => {
    const code = await call.setup(a, gateway.url);
    await call.setup(b, gateway.url, code);
    return bothSides(call.connect(a, opts), call.connect(b, opts));
  };
  const checkExchange = (x: ExchangeResult, y: ExchangeResult) => {
    expect([...y.got].sort()).toEqual([...x.sent].sort());
    expect([...x.got].sort()).toEqual([...y.sent].sort());
  };

  beforeAll(async () => {
    assertPrivateNetwork();
    if (!existsSync(IIFE)) throw new Error(`${IIFE} is missing: run \`pnpm build\` first`);
    [gateway, site, browser] = await Promise.all([
      startGateway({ port: 0, transitPort: 0 }),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': WEBRTC_PAGE }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    const t = (label: string, p: Promise<unknown> | undefined) =>
      Promise.race([p, new Promise((r) => setTimeout(() => r(console.error(`afterAll: ${label} still closing after 5 s`)), 5000))]);
    await t('browser', browser?.close());
    await t('site', site?.close());
    await t('gateway', gateway?.close());
    await cleanup();
  });
  const closePages = async () => {
    await Promise.all(pages.map((p) => call.closeAll(p).catch(() => { /* best-effort teardown: it may be closed already */ })));
    await Promise.all(pages.map((p) => p.context().close().catch(() => { /* best-effort teardown: it may be closed already */ })));
    pages = [];
  };

  it('two contexts: 8 concurrent streams each way, ≥ 200 MB with checksums', async () => {
    const [a, b] = [await newPage(), await newPage()];
    const [ra, rb] = await meet(a, b, {});
    expect(ra).toMatchObject({ kind: 'webrtc' });
    expect(rb).toMatchObject({ kind: 'webrtc' });
    const each = 13 * MiB; // 16 streams × 13 MiB = 208 MiB
    const [x, y] = await Promise.all([call.exchange(a, 8, each), call.exchange(b, 8, each)]);
    checkExchange(x, y);
    expect(x.sent.every((s) => s.startsWith(`${each}:`))).toBe(true);
    expect(x.stats.bytesSent + y.stats.bytesSent).toBeGreaterThanOrEqual(200 * 1000 * 1000);
    expect(x.stats.kind).toBe('webrtc');
    expect(x.stats.path).toContain('127.0.0.1');
    const mbps = (16 * each) / 1e6 / (Math.max(x.ms, y.ms) / 1000);
    console.log(`two contexts: 208 MiB over 16 streams in ${Math.max(x.ms, y.ms).toFixed(0)} ms = ${mbps.toFixed(1)} MB/s total; connect ${ra.ms?.toFixed(0)} ms; path ${x.stats.path}; rtt ${x.stats.rttMs?.toFixed(2)} ms`);
    await closePages();
  }, 180_000);

  it('two Chromium processes: 8 streams each way with checksums', async () => {
    const other = await launchChromium();
    try {
      const [a, b] = [await newPage(), await newPage(other)];
      const [ra, rb] = await meet(a, b, {});
      expect([ra.kind, rb.kind]).toEqual(['webrtc', 'webrtc']);
      const [x, y] = await Promise.all([call.exchange(a, 8, 4 * MiB), call.exchange(b, 8, 4 * MiB)]);
      checkExchange(x, y);
      await closePages();
    } finally {
      await other.close();
    }
  }, 120_000);

  it('coturn with relay-only ICE: the bytes go through TURN (coturn counters confirm)', async () => {
    const turn = await startCoturn();
    const [a, b] = [await newPage(), await newPage()];
    const opts = { relayOnly: true, iceServers: [{ urls: turn.url, username: turn.username, credential: turn.credential }] };
    const [ra, rb] = await meet(a, b, opts);
    expect([ra.kind, rb.kind], JSON.stringify([ra, rb])).toEqual(['webrtc', 'webrtc']);
    const [x, y] = await Promise.all([call.exchange(a, 4, 4 * MiB), call.exchange(b, 4, 4 * MiB)]);
    checkExchange(x, y);
    expect(x.stats.localCandidateType).toBe('relay');
    expect(y.stats.localCandidateType).toBe('relay');
    await closePages();
    await turn.stop(); // coturn writes each allocation's usage counters when it ends
    const log = turn.log();
    const received = [...log.matchAll(/usage: .*?rb=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const peerSent = [...log.matchAll(/peer usage: .*?sb=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    console.log(`coturn relayed: clients sent ${received} bytes to TURN, TURN sent ${peerSent} to peers`);
    expect(log).toMatch(/ALLOCATE/);
    expect(received).toBeGreaterThan(2 * 16 * MiB);
  }, 120_000);

  it('falls back to the gateway relay within the bound when ICE cannot succeed', async () => {
    const [a, b] = [await newPage(), await newPage()];
    const opts = { relayOnly: true, iceServers: [], iceTimeoutMs: 3000, relay: { relays: [gateway.relayUrl] } };
    const t0 = performance.now();
    const [ra, rb] = await meet(a, b, opts);
    expect([ra.kind, rb.kind], JSON.stringify([ra, rb])).toEqual(['relay', 'relay']);
    expect(performance.now() - t0).toBeLessThan(15_000);
    const [x, y] = await Promise.all([call.exchange(a, 4, 2 * MiB), call.exchange(b, 4, 2 * MiB)]);
    checkExchange(x, y);
    expect(x.stats.path).toContain('/relay');
    await closePages();
  }, 60_000);

  it('a page and a Node peer (node-datachannel) connect and stream both ways', async () => {
    const page = await newPage();
    const code = await call.setup(page, gateway.url);
    const node = await createWormhole({
      mailbox: gateway.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      RTCPeerConnection: NdcPeerConnection as unknown as RTCPeerConnectionConstructor,
    });
    node.setCode(code);
    const [rp, conn] = await Promise.all([call.connect(page, {}), node.connect({ rtcConfiguration: { bindAddress: '127.0.0.1' }, timeoutMs: 20_000 })]);
    expect(rp.kind).toBe('webrtc');
    expect(conn.kind).toBe('webrtc');
    const n = 4;
    const each = 4 * MiB;
    // Node: read the page's n streams, and send n of its own, with the page's checksum.
    const nodeReads = (async () => {
      const sums: string[] = [];
      const it = conn.incoming[Symbol.asyncIterator]();
      const reads: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const s = (await it.next()).value!;
        void s.writable.close();
        reads.push(
          (async () => {
            const h = nodeHasher();
            for await (const c of s.readable as unknown as AsyncIterable<Uint8Array>) h.update(c);
            sums.push(h.digest());
          })(),
        );
      }
      await Promise.all(reads);
      return sums;
    })();
    const nodeSends = Promise.all(
      Array.from({ length: n }, async () => {
        const s = await conn.openStream();
        void s.readable.cancel();
        const h = nodeHasher();
        const w = s.writable.getWriter();
        const pool = new Uint8Array(randomBytes(MiB));
        for (let sent = 0, seq = 0; sent < each; sent += 65536, seq++) {
          const chunk = pool.slice((seq * 65536) % MiB, ((seq * 65536) % MiB) + 65536);
          new DataView(chunk.buffer).setUint32(0, seq);
          h.update(chunk);
          await w.write(chunk);
        }
        await w.close();
        return h.digest();
      }),
    );
    const [x, nodeGot, nodeSent] = await Promise.all([call.exchange(page, n, each), nodeReads, nodeSends]);
    expect([...nodeGot].sort()).toEqual([...x.sent].sort());
    expect([...x.got].sort()).toEqual([...nodeSent].sort());
    const stats = await conn.getStats();
    expect(stats.kind).toBe('webrtc');
    expect(stats.bytesReceived).toBe(n * each);
    console.log(`browser ↔ node: ${(2 * n * each) / MiB} MiB in ${x.ms.toFixed(0)} ms; node path ${stats.path}`);
    await conn.close();
    await node.close().catch(() => { /* best-effort teardown: it may be closed already */ });
    await closePages();
  }, 60_000);
});

/** The page's checksum (support/webrtc-page.ts), in Node. */
function nodeHasher() {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0;
  let n = 0;
  let carry = new Uint8Array(0);
  return {
    update(chunk: Uint8Array) {
      n += chunk.length;
      let data = chunk;
      if (carry.length) {
        data = new Uint8Array(carry.length + chunk.length);
        data.set(carry);
        data.set(chunk, carry.length);
      }
      const whole = data.length & ~3;
      const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, whole / 4) : new Uint32Array(data.slice(0, whole).buffer);
      for (let i = 0; i < words.length; i++) {
        const x = words[i]!;
        h1 = Math.imul(h1 ^ x, 0x01000193);
        h2 = (h2 + (x ^ (i & 0xff))) | 0;
      }
      carry = data.slice(whole);
    },
    digest() {
      for (const b of carry) h1 = Math.imul(h1 ^ b, 0x01000193);
      return `${n}:${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}`;
    },
  };
}
