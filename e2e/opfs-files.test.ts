// The files-v1 OPFS sink (opfsFilesSink) in real browsers: partial data is
// durable while it is written (the tab is closed mid-file, a new tab of the
// same origin finds it and proves it byte for byte), resumes from there, and
// gets its final name only on commit; the fallback that commits a
// createWritable() every few MiB loses at most one segment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type Driver, type DriverPage } from './support/driver.js';
import { serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite, prepareIifeSuite } from './support/iife.js';

const MiB = 1024 * 1024;

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script src="/burrow.iife.js"></script>
<script>
  const CH = 65536;
  // Byte p of every test file: a pattern with no short period.
  const gen = (from, n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) { const p = from + i; b[i] = (p * 31 + (p >>> 11) + (p >>> 19)) & 255; } return b; };
  const offered = (path, size) => ({ index: 0, path, segments: path.split('/'), size });
  const mismatch = async (stream, from) => {
    const r = stream.getReader(); let p = from, bad = 0;
    for (;;) { const { value, done } = await r.read(); if (done) break; const want = gen(p, value.length); for (let i = 0; i < value.length; i++) if (value[i] !== want[i]) bad++; p += value.length; }
    return { bad, end: p };
  };
  let writer;
  // Open the file, write from 0 or what is held up to 'upto', then close, abort or leave the stream open.
  window.write = async ({ opts, path, size, resume, upto, end }) => {
    const sink = Burrow.opfsFilesSink(opts);
    const f = await sink.open(offered(path, size));
    const from = resume ? f.held : 0;
    writer = (await f.write(from)).getWriter();
    for (let p = from; p < upto; p += CH) await writer.write(gen(p, Math.min(CH, upto - p)));
    if (end === 'close') await writer.close();
    if (end === 'abort') await writer.abort(new Error('test abort'));
    if (end === 'commit') { await writer.close(); await f.commit(); }
    return { held: f.held, modes: [...sink.modes], partials: await sink.listPartials(), received: await sink.listReceived() };
  };
  window.inspect = async ({ opts, path, size }) => {
    const sink = Burrow.opfsFilesSink(opts);
    const partials = await sink.listPartials();
    const f = await sink.open(offered(path, size));
    const { bad, end } = await mismatch(f.readHeld(), 0);
    return { held: f.held, bad, end, partials };
  };
  window.received = async ({ opts, path }) => {
    const sink = Burrow.opfsFilesSink(opts);
    const file = await sink.getFile(path);
    const { bad, end } = await mismatch(file.stream(), 0);
    return { name: file.name, size: file.size, bad, end, partials: await sink.listPartials(), received: await sink.listReceived() };
  };
  window.missing = async ({ opts, path }) => {
    try { await Burrow.opfsFilesSink(opts).getFile(path); return 'found'; } catch (e) { return e.code; }
  };
  window.clear = async (opts) => { const s = Burrow.opfsFilesSink(opts); await s.clearPartials(); await s.clearReceived(); return { partials: await s.listPartials(), received: await s.listReceived() }; };
</script>`;

type Opts = { worker?: boolean; segmentBytes?: number };
type Args = { opts: Opts; path: string; size: number; resume?: boolean; upto?: number; end?: 'close' | 'abort' | 'commit' | 'open' };
type Entry = { path: string; size: number; held?: number };
type Win = {
  write(a: Args): Promise<{ held: number; modes: string[]; partials: Entry[]; received: Entry[] }>;
  inspect(a: Args): Promise<{ held: number; bad: number; end: number; partials: Entry[] }>;
  received(a: Args): Promise<{ name: string; size: number; bad: number; end: number; partials: Entry[]; received: Entry[] }>;
  missing(a: Args): Promise<string>;
  clear(o: Opts): Promise<{ partials: Entry[]; received: Entry[] }>;
};
const win = (p: DriverPage) => ({
  write: (a: Args) => p.evaluate((x) => (window as unknown as Win).write(x), a),
  inspect: (a: Args) => p.evaluate((x) => (window as unknown as Win).inspect(x), a),
  received: (a: Args) => p.evaluate((x) => (window as unknown as Win).received(x), a),
  missing: (a: Args) => p.evaluate((x) => (window as unknown as Win).missing(x), a),
  clear: (o: Opts) => p.evaluate((x) => (window as unknown as Win).clear(x), o),
});

describe.each(BROWSERS)('opfsFilesSink (%s)', (kind) => {
  let site: StaticServer;
  let browser: Driver;
  let dir: string;

  beforeAll(async () => {
    dir = prepareIifeSuite('burrow-opfs-files-');
    [site, browser] = await Promise.all([serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }), launchBrowser(kind)]);
  });
  afterAll(async () => {
    await closeSuite(dir, browser, site);
  });

  const tab = async (from?: DriverPage) => {
    const page = from ? await from.newTab() : await browser.newPage();
    await page.goto(site.url);
    return page;
  };

  it('Worker path: a tab closed mid-file leaves a durable, correct prefix; a new tab resumes it and commits under the final name', async () => {
    const opts: Opts = {};
    const file = { opts, path: 'photos/2024/a.bin', size: 24 * MiB };
    const first = await tab();
    try {
      const w = await win(first).write({ ...file, upto: 10 * MiB, end: 'open' });
      expect(w.held).toBe(0);
      expect(w.modes).toEqual(['sync']);
      expect(await win(first).missing(file)).toBe('Usage');
      await first.closeTab(); // the Worker dies with the tab, mid-stream

      const second = await tab(first);
      const kept = await win(second).inspect(file);
      // ≥ 10 MiB − the 2 MiB in flight − the 256 KiB batch being filled, all of it correct.
      expect(kept.held).toBeGreaterThanOrEqual(7 * MiB);
      expect(kept.held).toBeLessThanOrEqual(10 * MiB);
      expect(kept).toMatchObject({ bad: 0, end: kept.held, partials: [{ path: file.path, size: file.size, held: kept.held }] });

      const done = await win(second).write({ ...file, resume: true, upto: file.size, end: 'commit' });
      expect(done.held).toBe(kept.held);
      expect(done.partials).toEqual([]);
      expect(done.received).toEqual([{ path: file.path, size: file.size }]);
      const got = await win(second).received(file);
      expect(got).toMatchObject({ name: 'a.bin', size: file.size, bad: 0, end: file.size });
      // Offered again (a re-run of the offer): held in full from the final file, no partial made.
      expect(await win(second).inspect(file)).toMatchObject({ held: file.size, bad: 0, end: file.size, partials: [] });
      expect(await win(second).clear(opts)).toEqual({ partials: [], received: [] });
      expect(second.errors).toEqual([]);
    } finally {
      await first.close();
    }
  }, 120_000);

  it('segment fallback (no Worker): a closed tab loses at most the open segment; abort keeps what was written; write(0) restarts', async () => {
    const opts: Opts = { worker: false, segmentBytes: 4 * MiB };
    const file = { opts, path: 'b.bin', size: 12 * MiB };
    const first = await tab();
    try {
      const w = await win(first).write({ ...file, upto: 9 * MiB, end: 'open' });
      expect(w.modes).toEqual(['segments']);
      await first.closeTab();

      const second = await tab(first);
      const kept = await win(second).inspect(file);
      expect(kept).toMatchObject({ held: 8 * MiB, bad: 0, end: 8 * MiB }); // two committed segments
      await win(second).write({ ...file, resume: true, upto: 10 * MiB + 12345, end: 'abort' });
      expect(await win(second).inspect(file)).toMatchObject({ held: 10 * MiB + 12345, bad: 0 });
      // A prefix the sender refused: start over from 0, the old bytes are gone.
      await win(second).write({ ...file, upto: MiB, end: 'close' });
      expect(await win(second).inspect(file)).toMatchObject({ held: MiB, bad: 0 });
      await win(second).write({ ...file, resume: true, upto: file.size, end: 'commit' });
      expect(await win(second).received(file)).toMatchObject({ name: 'b.bin', size: file.size, bad: 0, partials: [] });
      await win(second).clear(opts);
      expect(second.errors).toEqual([]);
    } finally {
      await first.close();
    }
  }, 120_000);
});
