// A page (the script-tag bundle) receives a file from the Debian `wormhole`
// CLI through the gateway's relay over an HTTP stream (httpStreamDialer: a
// streamed GET for the relay's bytes, POSTs for the page's), and falls back
// to the relay WebSocket when the gateway has no HTTP side.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWormhole, sha256File } from '@burrow/testkit';
import { BROWSERS } from './support/driver.js';
import { startPageRig, type PageRig } from './support/iife.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow relay over HTTP</title>
<script src="/burrow.iife.js"></script>
<script>
  // missing: the stream is asked for at a path this gateway does not serve (its 404 has no CORS header, as an older gateway's).
  window.receiveFile = async (mailbox, code, missing) => {
    const signal = AbortSignal.timeout(60000);
    const requests = [];
    let fallbacks = 0;
    const fetchVia = (url, init) => {
      requests.push((init?.method ?? 'GET') + ' ' + url.replace(/relay-stream\\/[0-9a-f]{32}/, 'relay-stream/ID'));
      return fetch(missing ? url.replace('/relay-stream/', '/relay-stream-missing/') : url, init);
    };
    const webSocket = Burrow.webSocketDialer();
    const fallback = (url, dial) => { fallbacks++; return webSocket(url, dial); };
    const transit = { dialers: { websocket: Burrow.httpStreamDialer({ fetch: fetchVia, fallback }) } };
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const offer = await Burrow.receiveOffer(w, { signal, transit });
    if (offer.type !== 'file') throw new Error('expected a file, got ' + offer.type);
    const parts = [];
    const result = await offer.accept(new WritableStream({ write(c) { parts.push(c.slice()); } }), { signal, transit });
    const bytes = await new Blob(parts).arrayBuffer();
    const pageSha256 = Burrow.toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
    await w.close();
    return { size: bytes.byteLength, sha256: result.sha256, pageSha256, via: result.via, requests: [...new Set(requests)], fallbacks };
  };
</script>`;

type Received = { size: number; sha256: string; pageSha256: string; via: string; requests: string[]; fallbacks: number };

describe.each(BROWSERS)('relay over an HTTP stream in headless %s', (kind) => {
  let rig: PageRig;

  beforeAll(async () => {
    rig = await startPageRig('burrow-relay-http-', PAGE, kind);
  });

  afterAll(async () => {
    await rig?.close();
  });

  for (const missing of [false, true]) {
    it(missing ? 'falls back to the WebSocket when the gateway has no HTTP side' : 'receives a file from the wormhole CLI through the gateway relay over HTTP', async () => {
      const page = await rig.browser.newPage();
      await page.goto(rig.site.url);
      const size = 2 * 1024 * 1024 + 33;
      const file = join(rig.dir, `http-${String(missing)}.bin`);
      writeFileSync(file, randomBytes(size));
      const cli = runWormhole(['send', '--hide-progress', file], { relayUrl: rig.gw.url, cwd: rig.dir });
      const got = (await page.evaluate(
        ([url, c, m]) => (window as unknown as { receiveFile(u: string, c: string, m: boolean): Promise<Received> }).receiveFile(url, c, m),
        [rig.gw.url, await cli.code, missing] as const,
      )) as Received;
      const want = await sha256File(file);
      expect(got).toMatchObject({ size, sha256: want, pageSha256: want, via: 'relay', fallbacks: missing ? 1 : 0 });
      const stream = `${rig.gw.relayUrl.replace(/^ws/, 'http')}-stream/ID`;
      expect(got.requests).toContain(`GET ${stream}`);
      if (missing) expect(got.requests).toEqual([`GET ${stream}`]);
      else expect(got.requests).toContain(`POST ${stream}?seq=0`);
      const r = await cli.result;
      expect(r.exitCode, r.stderr).toBe(0);
      // Firefox reports the older gateway's 404 (no CORS header) as a console error; that is the fallback's cue.
      expect(page.errors.filter((e) => !(missing && e.includes('Cross-Origin Request Blocked')))).toEqual([]);
      await page.close();
    });
  }
});
