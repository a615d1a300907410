// Native HTTP/3 WebTransport in headless Chromium against ONE `burrow serve
// --webtransport-port 0` (Deno terminates QUIC and hands every session to
// the gateway, so HTTP/3, WebSocket and TCP clients share its mailbox and
// relay). The page learns the URL and the self-signed certificate's hash
// from GET /webtransport and trusts it through `serverCertificateHashes`.
// Shown: two pages exchange a text over HTTP/3; a page on HTTP/3 and the
// Debian `wormhole` CLI on WebSocket complete a wormhole; a page sends a
// file over the relay's HTTP/3 side to the CLI (whose side is TCP); raw
// relay sessions glued by token; a wrong hash is a Connection error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, runWormhole, sha256 } from '@burrow/testkit';
import { burrowServe, type BurrowServe } from './support/burrow-serve.js';
import { openPage, serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite, prepareIifeSuite } from './support/iife.js';
import { pageToPageText } from './support/webtransport.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow over native WebTransport</title>
<script src="/burrow.iife.js"></script>
<script>
  const trust = (hashHex) => ({ serverCertificateHashes: [{ algorithm: 'sha-256', value: Burrow.fromHex(hashHex) }] });
  const transport = (hashHex) => Burrow.webTransportTransport(trust(hashHex));
  window.send = async (mailbox, hash, text) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport(hash) });
    const code = await w.allocateCode();
    window.sent = w.sendText(text).then(async () => ({ verifier: Burrow.toHex(await w.verifier) })).finally(() => w.close());
    return code;
  };
  window.receive = async (mailbox, hash, code) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport(hash) });
    w.setCode(code);
    try {
      const text = await w.receiveText({ signal: AbortSignal.timeout(30000) });
      return { text, verifier: Burrow.toHex(await w.verifier) };
    } finally {
      await w.close();
    }
  };
  // A file to whoever takes the code; Transit dials only the relay's WebTransport side (announced in the welcome).
  window.sendFile = async (mailbox, hash, size) => {
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
    const w = await Burrow.createWormhole({ mailbox, transport: transport(hash) });
    const code = await w.allocateCode();
    const file = new File([data], 'from-page.bin');
    const transit = { dialers: { webtransport: Burrow.webTransportDialer(trust(hash)) } };
    window.fileSent = Burrow.sendFile(w, file, { transit, signal: AbortSignal.timeout(60000) })
      .then((r) => ({ sha256: r.sha256, via: r.via, connection: r.connection, bytes: r.bytes }))
      .finally(() => w.close());
    return code;
  };
  // Two raw relay sessions glued by token: A's bytes arrive at B (the relay protocol, no wormhole).
  window.relayBytes = async (relayUrl, hash, size) => {
    const token = Burrow.toHex(crypto.getRandomValues(new Uint8Array(32)));
    const open = async (side) => {
      const wt = new WebTransport(relayUrl, trust(hash));
      await wt.ready;
      const stream = await wt.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      const reader = stream.readable.getReader();
      await writer.write(new TextEncoder().encode('please relay ' + token + ' for side ' + side + '\\n'));
      return { wt, writer, reader };
    };
    const readExactly = async (reader, n) => {
      const out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended after ' + got + ' of ' + n + ' bytes');
        out.set(value.subarray(0, n - got), got);
        got += Math.min(value.length, n - got);
      }
      return out;
    };
    const [a, b] = await Promise.all([open('aaaaaaaaaaaaaaaa'), open('bbbbbbbbbbbbbbbb')]);
    const okA = new TextDecoder().decode(await readExactly(a.reader, 3));
    const okB = new TextDecoder().decode(await readExactly(b.reader, 3));
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
    const sending = (async () => { for (let at = 0; at < size; at += 32768) await a.writer.write(data.subarray(at, at + 32768)); })();
    const received = await readExactly(b.reader, size);
    await sending;
    const hex = async (bytes) => Burrow.toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
    const result = { okA, okB, sent: await hex(data), received: await hex(received) };
    a.wt.close();
    b.wt.close();
    return result;
  };
  window.tryConnect = async (mailbox, hash) => {
    try { await Burrow.createWormhole({ mailbox, transport: transport(hash) }); return 'connected'; }
    catch (e) { return e.code; }
  };
</script>`;

type FileSent = { sha256: string; via: string; connection: string; bytes: number };
type Win = {
  send(mailbox: string, hash: string, text: string): Promise<string>;
  sent: Promise<{ verifier: string }>;
  sendFile(mailbox: string, hash: string, size: number): Promise<string>;
  fileSent: Promise<FileSent>;
  tryConnect(mailbox: string, hash: string): Promise<string>;
  relayBytes(relayUrl: string, hash: string, size: number): Promise<{ okA: string; okB: string; sent: string; received: string }>;
};

/** What GET /webtransport answers. */
interface WebTransportInfo {
  url: string;
  mailbox: string;
  relay: string;
  serverCertificateHashes: { algorithm: string; value: string }[];
  notAfter: string;
}

describe('native HTTP/3 WebTransport in headless Chromium, one burrow serve for every listener', () => {
  let dir: string;
  let gw: BurrowServe;
  let info: WebTransportInfo;
  let hash: string;
  let site: StaticServer;
  let browser: Browser;
  const health = async () => (await (await fetch(`${gw.http}/health`)).json()) as { relay: { pairsTotal: number; bytes: number } };

  beforeAll(async () => {
    dir = prepareIifeSuite('burrow-wt-native-');
    [gw, site, browser] = await Promise.all([
      burrowServe(['--webtransport-port', '0']),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }),
      launchChromium(),
    ]);
    info = (await (await fetch(`${gw.http}/webtransport`)).json()) as WebTransportInfo;
    hash = info.serverCertificateHashes[0]!.value;
  });
  afterAll(async () => {
    await closeSuite(dir, browser, site, gw);
  });

  const open = () => openPage(browser, site.url);

  it('announces the HTTP/3 endpoints and a certificate browsers accept by hash', () => {
    expect(info.mailbox).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(info.relay).toBe(info.mailbox.replace(/\/v1$/, '/relay'));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(info.notAfter) - Date.now()).toBeLessThan(14 * 24 * 3600 * 1000);
  });

  it('two pages complete a wormhole text exchange over Chromium native WebTransport', async () => {
    const a = await open();
    const b = await open();
    await pageToPageText(a.page, b.page, [info.mailbox, hash], 'over HTTP/3 🌍');
    for (const p of [a, b]) {
      expect(p.errors).toEqual([]);
      await p.page.close();
    }
  });

  it('a page on HTTP/3 and the wormhole CLI on WebSocket complete a wormhole through the same mailbox', async () => {
    const { page, errors } = await open();
    const code = await page.evaluate(([m, h]) => (window as unknown as Win).send(m, h, 'page on HTTP/3, CLI on WebSocket'), [info.mailbox, hash] as const);
    const cli = runWormhole(['receive', code], { relayUrl: gw.url, stdin: '' });
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('page on HTTP/3, CLI on WebSocket');
    expect((await page.evaluate(() => (window as unknown as Win).sent)).verifier).toMatch(/^[0-9a-f]{64}$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a page sends a file over the relay on HTTP/3 to the wormhole CLI (TCP to the same relay)', async () => {
    const { page, errors } = await open();
    const before = await health();
    const size = 3 * 1024 * 1024 + 17;
    const code = await page.evaluate(([m, h, n]) => (window as unknown as Win).sendFile(m, h, n), [info.mailbox, hash, size] as const);
    const out = join(dir, 'received.bin');
    const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', out, code], { relayUrl: gw.url, cwd: dir, stdin: '' });
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    const sent = await page.evaluate(() => (window as unknown as Win).fileSent);
    expect(sent).toMatchObject({ via: 'relay', connection: `->relay:${info.relay}`, bytes: size });
    expect(sha256(readFileSync(out))).toBe(sent.sha256);
    const after = await health();
    expect(after.relay.pairsTotal).toBe(before.relay.pairsTotal + 1);
    expect(after.relay.bytes - before.relay.bytes).toBeGreaterThan(size);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the relay glues two native WebTransport sessions by token and carries 2 MiB intact', async () => {
    const { page, errors } = await open();
    const size = 2 * 1024 * 1024;
    const r = await page.evaluate(([u, h, n]) => (window as unknown as Win).relayBytes(u, h, n), [info.relay, hash, size] as const);
    expect(r.okA).toBe('ok\n');
    expect(r.okB).toBe('ok\n');
    expect(r.received).toBe(r.sent);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a wrong certificate hash is a Connection error in the page', async () => {
    const { page } = await open();
    const result = await page.evaluate(([m, h]) => (window as unknown as Win).tryConnect(m, h), [info.mailbox, '00'.repeat(32)] as const);
    expect(result).toBe('Connection');
    await page.close();
  });
});
