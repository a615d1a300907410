// Transit records through the Worker pool in a real page (the script-tag
// build): a file from the wormhole CLI through the gateway relay is opened by
// Workers, a file to the CLI is sealed by them, both intact; where Workers
// cannot start (the constructor throws, as under a CSP refusing blob:
// workers) the same transfer finishes on the main thread.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir, runWormhole, sha256File } from '@burrow/testkit';
import { startPageRig, type PageRig } from './support/iife.js';


const PAGE = `<!doctype html>
<meta charset="utf-8">
<script src="/burrow.iife.js"></script>
<script>
  window.started = 0;
  window.useWorkers = (mode) => {
    const Real = window.Worker;
    window.Worker = mode === 'refused'
      ? class { constructor() { throw new DOMException('refused by policy', 'SecurityError'); } }
      : class extends Real { constructor(...a) { super(...a); window.started++; } };
  };
  const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
  window.receive = async (mailbox, code) => {
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const offer = await Burrow.receiveOffer(w, { signal: AbortSignal.timeout(60000) });
    const parts = [];
    const result = await offer.accept(new WritableStream({ write(c) { parts.push(c.slice()); } }));
    await w.close();
    const digest = await crypto.subtle.digest('SHA-256', await new Blob(parts).arrayBuffer());
    return { sha256: result.sha256, pageSha256: hex(digest), via: result.via, workers: window.started };
  };
  window.send = async (mailbox, size) => {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const w = await Burrow.createWormhole({ mailbox });
    const code = await w.allocateCode();
    const done = Burrow.sendFile(w, { name: 'from-page.bin', size, stream: () => new Blob([data]).stream() }, { signal: AbortSignal.timeout(60000) });
    window.sent = done.then(async (r) => { await w.close(); return { sha256: r.sha256, via: r.via, workers: window.started }; });
    window.sentData = hex(await crypto.subtle.digest('SHA-256', data));
    return code;
  };
</script>`;

type Win = {
  useWorkers(mode: 'counted' | 'refused'): void;
  receive(u: string, c: string): Promise<{ sha256: string; pageSha256: string; via: string; workers: number }>;
  send(u: string, size: number): Promise<string>;
  sent: Promise<{ sha256: string; via: string; workers: number }>;
  sentData: string;
};

describe('transit records in Workers (headless chromium)', () => {
  let rig: PageRig;

  beforeAll(async () => {
    rig = await startPageRig('burrow-record-workers-', PAGE, 'chromium');
  });

  afterAll(async () => {
    await rig?.close();
  });

  for (const mode of ['counted', 'refused'] as const) {
    it(`receives a file from the CLI through the gateway relay (Workers ${mode === 'counted' ? 'running' : 'refused: main thread'})`, async () => {
      const page = await rig.browser.newPage();
      await page.goto(rig.site.url);
      await page.evaluate((m) => (window as unknown as Win).useWorkers(m), mode);
      const file = join(rig.dir, `in-${mode}.bin`);
      writeFileSync(file, randomBytes(2 * 1024 * 1024 + 5));
      const cli = runWormhole(['send', '--hide-progress', file], { relayUrl: rig.gw.url, cwd: rig.dir });
      const got = await page.evaluate(([u, c]) => (window as unknown as Win).receive(u, c), [rig.gw.url, await cli.code] as const);
      const want = await sha256File(file);
      expect(got).toMatchObject({ sha256: want, pageSha256: want, via: 'relay' });
      if (mode === 'counted') expect(got.workers).toBeGreaterThan(0);
      expect((await cli.result).exitCode).toBe(0);
      expect(page.errors).toEqual([]);
      await page.close();
    });
  }

  it('sends a file to the CLI through the gateway relay, sealed by Workers', async () => {
    const page = await rig.browser.newPage();
    await page.goto(rig.site.url);
    await page.evaluate((m) => (window as unknown as Win).useWorkers(m), 'counted' as const);
    const code = await page.evaluate(([u, n]) => (window as unknown as Win).send(u, n), [rig.gw.url, 3 * 1024 * 1024 + 1] as const);
    const out = makeTempDir('burrow-record-workers-out-');
    try {
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', join(out, 'x'), code], { relayUrl: rig.gw.url, transitHelper: rig.gw.transitHint!, cwd: out });
      const r = await cli.result;
      expect(r.exitCode, r.stderr).toBe(0);
      const sent = await page.evaluate(() => (window as unknown as Win).sent, undefined);
      const want = createHash('sha256').update(readFileSync(join(out, 'x'))).digest('hex');
      expect(sent).toMatchObject({ sha256: want, via: 'relay' });
      expect(sent.workers).toBeGreaterThan(0);
      expect(await page.evaluate(() => (window as unknown as Win).sentData, undefined)).toBe(want);
    } finally {
      removeDir(out);
    }
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
