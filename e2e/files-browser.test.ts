// files-v1 between browsers (issue 12): one `sendFiles` offer of several
// files and a folder goes over WebRTC into an OPFS sink, Chromium ↔
// Chromium and Chromium ↔ Firefox both ways, every checksum equal to the
// one Node computes; a receiving tab closed at ~50 % resumes with a new
// code from what OPFS kept (only the rest crosses); and a WebRTC path
// closed under a running transfer is re-established within the code with
// no user action.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import type { BrowserKind, DriverPage } from './support/driver.js';
import { startTwoBrowsers, type TwoBrowsers } from './support/two-browsers.js';
import { FILES_PAGE, SPEC, expectedFiles, filesPage, type PageFilesResult } from './support/files-page.js';

const EXPECTED = expectedFiles(SPEC);
const TOTAL = EXPECTED.reduce((n, f) => n + f.size, 0);
const byPath = <T extends { path: string }>(list: readonly T[]) => [...list].sort((a, b) => a.path.localeCompare(b.path));

describe('files-v1 between browsers (sendFiles → OPFS over WebRTC)', () => {
  let rig: TwoBrowsers | undefined;
  let pages: DriverPage[] = [];

  beforeAll(async () => {
    rig = await startTwoBrowsers(FILES_PAGE);
  });
  afterEach(async () => {
    await Promise.all(pages.map((p) => p.close()));
    pages = [];
  });
  afterAll(async () => {
    await rig?.close();
  });

  const open = async (kind: BrowserKind, sibling?: DriverPage): Promise<DriverPage> => {
    const page = sibling ? await sibling.newTab() : await rig!.browsers.get(kind)!.newPage();
    await page.goto(rig!.site.url);
    if (!sibling) pages.push(page);
    return page;
  };

  /** Both results describe the same, complete, correct files. */
  const expectComplete = (sent: PageFilesResult, got: PageFilesResult) => {
    expect(sent.error, JSON.stringify(sent.error)).toBeUndefined();
    expect(got.error, JSON.stringify(got.error)).toBeUndefined();
    const want = byPath(EXPECTED);
    expect(byPath(sent.files).map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(want);
    expect(byPath(got.files).map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(want);
    expect(byPath(got.checked!)).toEqual(want.map(({ path, size }) => ({ path, size, bad: 0 })));
    expect(byPath(got.received!)).toEqual(want.map(({ path, size }) => ({ path, size })));
    expect(got.partials).toEqual([]);
    expect(got.bytes).toBe(TOTAL);
    expect(got.modes).toEqual(['sync']);
  };

  /** Start a transfer from `a` to `b`; returns once the receiver accepted the offer. */
  const start = async (a: DriverPage, b: DriverPage, gate?: number) => {
    const code = await filesPage(a).setup(rig!.gateway.url);
    await filesPage(b).setup(rig!.gateway.url, code);
    await filesPage(a).send(SPEC, gate);
    const offer = await filesPage(b).receive(SPEC);
    expect(offer).toMatchObject({ type: 'files', bytes: TOTAL, directories: ['album/empty'], via: 'webrtc' });
    expect(byPath(offer.files!)).toEqual(byPath(EXPECTED).map(({ path, size }) => ({ path, size })));
    return code;
  };

  /** Both results; if they do not come within 60 s, fail with where each side stands. */
  const finish = async (a: DriverPage, b: DriverPage): Promise<[PageFilesResult, PageFilesResult]> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void Promise.all([a, b].map((p) => filesPage(p).state().catch((e: unknown) => String(e)))).then(
          ([sa, sb]) => reject(new Error(`no result within 60 s; sender ${JSON.stringify(sa)}; receiver ${JSON.stringify(sb)}`)),
          reject,
        );
      }, 60_000);
    });
    try {
      return await Promise.race([Promise.all([filesPage(a).sent(), filesPage(b).received()]), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const atLeast = (page: DriverPage, share: number) =>
    waitFor(
      async () => {
        const p = await filesPage(page).progress();
        return p && p.bytes >= share * p.total ? p : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20, message: `${share * 100} % received` },
    );

  it.each([
    ['chromium', 'chromium'],
    ['chromium', 'firefox'],
    ['firefox', 'chromium'],
  ] as const)('%s → %s: several files and a folder in one offer over WebRTC, checksums equal', async (from, to) => {
    const [a, b] = await Promise.all([open(from), open(to)]);
    await start(a, b);
    const [sent, got] = await finish(a, b);
    expectComplete(sent, got);
    for (const r of [sent, got]) expect(r).toMatchObject({ via: 'webrtc', moved: TOTAL, reconnects: 0 });
    expect(got.connection).toContain('127.0.0.1');
    console.log(`${from} → ${to}: ${(TOTAL / 1e6).toFixed(1)} MB, ${EXPECTED.length} files in ${got.elapsedMs.toFixed(0)} ms (${(TOTAL / 1e6 / (got.elapsedMs / 1000)).toFixed(1)} MB/s); ${got.connection}`);
    for (const p of [a, b]) expect(p.errors, `uncaught errors in the ${p.kind} page`).toEqual([]);
  }, 120_000);

  it.each([
    ['chromium', 'chromium'],
    ['firefox', 'chromium'],
    ['chromium', 'firefox'],
  ] as const)('%s → %s: the receiving tab closed at ~50 %% resumes with a new code from the OPFS partials', async (from, to) => {
    const [a, b] = await Promise.all([open(from), open(to)]);
    // Every file slows to a crawl at 60 %: with 4 files at a time that is ~50 % of the offer, and it cannot finish before the tab closes.
    await start(a, b, 0.6);
    const before = await atLeast(b, 0.45);
    await b.closeTab(); // Worker, connection and wormhole die with it
    const aborted = await filesPage(a).abortSend();
    expect(aborted.error?.code).toMatch(/^(Aborted|Connection|PeerClosed|Lonely)$/);

    const a2 = await open(from);
    const b2 = await open(to, b);
    const kept = await filesPage(b2).partials();
    expect(kept.length).toBeGreaterThan(0);
    await start(a2, b2);
    const [sent, got] = await finish(a2, b2);
    expectComplete(sent, got);
    expect(got.via).toBe('webrtc');
    // Only what was missing crossed: at most the unfinished share, plus what sat in buffers when the tab closed.
    expect(got.moved).toBeLessThan(TOTAL * 0.6);
    expect(got.moved).toBe(sent.moved);
    expect(got.files.some((f) => f.resumedFrom > 0)).toBe(true);
    console.log(
      `${from} → ${to}: tab closed at ${((before.bytes / TOTAL) * 100).toFixed(0)} %; resumed with a new code, moved ${((got.moved / TOTAL) * 100).toFixed(0)} % ` +
        `(${(got.moved / 1e6).toFixed(1)} of ${(TOTAL / 1e6).toFixed(1)} MB); resumedFrom ${got.files.map((f) => f.resumedFrom).join(',')}`,
    );
    await filesPage(b2).clearOpfs();
    await b2.closeTab();
  }, 120_000);

  it.each([
    ['chromium', 'chromium', 'receiver'],
    ['chromium', 'firefox', 'sender'],
    ['firefox', 'chromium', 'receiver'],
  ] as const)('%s → %s: the WebRTC path closed under the transfer (%s side) is re-established within the code', async (from, to, side) => {
    const [a, b] = await Promise.all([open(from), open(to)]);
    await start(a, b);
    await atLeast(b, 0.3);
    expect(await filesPage(side === 'sender' ? a : b).dropWebRtc()).toBe(1);
    const [sent, got] = await finish(a, b);
    expectComplete(sent, got);
    for (const r of [sent, got]) {
      expect(r.via).toBe('webrtc');
      expect(r.reconnects).toBeGreaterThanOrEqual(1);
    }
    // No byte lost or duplicated beyond what the lost path was carrying.
    expect(got.moved).toBeLessThan(TOTAL * 1.5);
    console.log(`${from} → ${to}: path closed by the ${side}; ${got.reconnects} reconnect(s), moved ${(got.moved / 1e6).toFixed(1)} MB for ${(TOTAL / 1e6).toFixed(1)} MB`);
    await filesPage(b).clearOpfs();
  }, 120_000);
});
