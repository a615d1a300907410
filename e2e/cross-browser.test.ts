// Firefox and Chromium as peers: two pages, one in each browser, meet with
// a wormhole code through the gateway, connect() over WebRTC (loopback
// ICE, DTLS bound to the PAKE) and stream over 4 concurrent data channels
// in each direction, ≥ 50 MB from the side that allocated the code, with
// an order-dependent checksum of every byte on both ends. Both ways round.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bothSides, type BrowserKind, type DriverPage } from './support/driver.js';
import { startTwoBrowsers, type TwoBrowsers } from './support/two-browsers.js';
import { WEBRTC_PAGE, type ExchangeResult, type PageConnectResult } from './support/webrtc-page.js';

const MiB = 1024 * 1024;
const STREAMS = 4;
const BULK = 13 * MiB; // 4 × 13 MiB = 54.5 MB from the code's owner
const BACK = 2 * MiB; // and 4 × 2 MiB the other way, at the same time

type Win = {
  setup(mailbox: string, code?: string): Promise<string>;
  connect(opts: unknown): Promise<PageConnectResult>;
  exchange(n: number, bytes: number): Promise<ExchangeResult>;
  closeAll(): Promise<void>;
};
const call = {
  setup: (p: DriverPage, mailbox: string, code?: string) => p.evaluate(([m, c]) => (window as unknown as Win).setup(m, c), [mailbox, code] as const),
  connect: (p: DriverPage, opts: unknown) => p.evaluate((o) => (window as unknown as Win).connect(o), opts),
  exchange: (p: DriverPage, n: number, bytes: number) => p.evaluate(([k, b]) => (window as unknown as Win).exchange(k, b), [n, bytes] as const),
  verifier: (p: DriverPage) =>
    p.evaluate(async () => {
      const g = globalThis as unknown as { Burrow: { toHex(b: Uint8Array): string } };
      // `w` is the page script's wormhole (a global lexical binding of the page).
      const w = (0, eval)('w') as { verifier: Promise<Uint8Array> };
      return g.Burrow.toHex(await w.verifier);
    }, undefined),
  closeAll: (p: DriverPage) => p.evaluate(() => (window as unknown as Win).closeAll(), undefined),
};

describe('connect() across browsers (Firefox ↔ Chromium)', () => {
  let rig: TwoBrowsers | undefined;
  let pages: DriverPage[] = [];

  beforeAll(async () => {
    rig = await startTwoBrowsers(WEBRTC_PAGE);
  });
  afterEach(async () => {
    await Promise.all(pages.map((p) => call.closeAll(p).catch(() => { /* best-effort teardown: it may be closed already */ })));
    await Promise.all(pages.map((p) => p.close()));
    pages = [];
  });
  afterAll(async () => {
    await rig?.close();
  });

  const open = async (kind: BrowserKind): Promise<DriverPage> => {
    const page = await rig!.browsers.get(kind)!.newPage();
    await page.goto(rig!.site.url);
    pages.push(page);
    return page;
  };

  it.each([
    ['firefox', 'chromium'],
    ['chromium', 'firefox'],
  ] as const)('%s → %s: code exchange, connect() over WebRTC, 4 concurrent streams, ≥ 50 MB with checksums', async (from, to) => {
    const [a, b] = await Promise.all([open(from), open(to)]);
    const code = await call.setup(a, rig!.gateway.url);
    expect(code).toMatch(/^\d+-[a-z]+-[a-z]+$/);
    await call.setup(b, rig!.gateway.url, code);
    const [ra, rb] = await bothSides(call.connect(a, {}), call.connect(b, {}), [from, to]);
    expect(ra, JSON.stringify(ra)).toMatchObject({ kind: 'webrtc' });
    expect(rb, JSON.stringify(rb)).toMatchObject({ kind: 'webrtc' });
    const [va, vb] = await Promise.all([call.verifier(a), call.verifier(b)]);
    expect(va).toMatch(/^[0-9a-f]{64}$/);
    expect(va).toBe(vb);

    const [x, y] = await Promise.all([call.exchange(a, STREAMS, BULK), call.exchange(b, STREAMS, BACK)]);
    // Every stream's checksum (byte count + order-dependent hash) equal on both ends.
    expect([...y.got].sort()).toEqual([...x.sent].sort());
    expect([...x.got].sort()).toEqual([...y.sent].sort());
    expect(x.sent).toHaveLength(STREAMS);
    expect(x.sent.every((s) => s.startsWith(`${BULK}:`))).toBe(true);
    expect(y.stats.bytesReceived).toBe(STREAMS * BULK);
    expect(STREAMS * BULK).toBeGreaterThanOrEqual(50 * 1000 * 1000);
    for (const s of [x.stats, y.stats]) {
      expect(s.kind).toBe('webrtc');
      expect(s.path).toContain('127.0.0.1');
    }
    const ms = Math.max(x.ms, y.ms);
    console.log(
      `${from} → ${to}: ${((STREAMS * (BULK + BACK)) / 1e6).toFixed(1)} MB over ${2 * STREAMS} streams in ${ms.toFixed(0)} ms ` +
        `(${((STREAMS * BULK) / 1e6 / (ms / 1000)).toFixed(1)} MB/s bulk); connect ${ra.ms?.toFixed(0)} ms; path ${x.stats.path}`,
    );
    for (const p of [a, b]) expect(p.errors, `uncaught errors in the ${p.kind} page`).toEqual([]);
  }, 180_000);
});
