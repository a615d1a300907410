// The script-tag bundle in a real browser, for each browser: a plain HTML
// page that loads only packages/client/dist/burrow.iife.js receives a text
// from the Debian CLI (Debian's mailbox server), and a text and a file
// from the CLI through the gateway (its relay glues the CLI's TCP to the
// page's WebSocket).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWormhole, sha256File, startMailboxServer, type MailboxServer, wrongCode } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { BROWSERS, launchBrowser, type Driver, type DriverPage } from './support/driver.js';
import { serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite, prepareIifeSuite } from './support/iife.js';


const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow script tag</title>
<script src="/burrow.iife.js"></script>
<pre id="out">loading</pre>
<script>
  window.receive = async (mailbox, code) => {
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const text = await w.receiveText({ signal: AbortSignal.timeout(30000) });
    const verifier = Burrow.toHex(await w.verifier);
    await w.close();
    document.getElementById('out').textContent = text;
    return { text, verifier };
  };
  window.wrongCode = async (mailbox, code) => {
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    try { await w.receiveText({ signal: AbortSignal.timeout(30000) }); return 'no error'; }
    catch (e) { return e.code; }
  };
  // Receive whatever is offered; a file goes to OPFS and is hashed again here, independently of the SDK.
  window.receiveAny = async (mailbox, code) => {
    const signal = AbortSignal.timeout(60000);
    const w = await Burrow.createWormhole({ mailbox });
    w.setCode(code);
    const offer = await Burrow.receiveOffer(w, { signal });
    if (offer.type === 'message') { await w.close(); return { type: 'message', text: offer.message }; }
    if (offer.type !== 'file') { await offer.reject(); await w.close(); return { type: offer.type }; }
    const sink = await Burrow.opfsFileSink(offer.name);
    const result = await offer.accept(sink.writable, { signal });
    const file = await sink.file();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    await w.close();
    return { type: 'file', name: file.name, size: file.size, sha256: result.sha256, pageSha256: Burrow.toHex(digest), via: result.via };
  };
</script>`;

type Received = { type: string; text?: string; name?: string; size?: number; sha256?: string; pageSha256?: string; via?: string };
type Win = {
  receive(u: string, c: string): Promise<{ text: string; verifier: string }>;
  wrongCode(u: string, c: string): Promise<string>;
  receiveAny(u: string, c: string): Promise<Received>;
};

describe.each(BROWSERS)('IIFE bundle in headless %s', (kind) => {
  let mailbox: MailboxServer;
  let gw: Gateway;
  let site: StaticServer;
  let browser: Driver;
  let dir: string;

  beforeAll(async () => {
    dir = prepareIifeSuite('burrow-iife-');
    [mailbox, gw, site, browser] = await Promise.all([
      startMailboxServer(),
      startGateway({ port: 0, transitPort: 0 }),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }),
      launchBrowser(kind),
    ]);
  });
  afterAll(async () => {
    await closeSuite(dir, browser, site, gw);
  });

  async function open(): Promise<DriverPage> {
    const page = await browser.newPage();
    await page.goto(site.url);
    return page;
  }

  it('exposes the global Burrow with the client API', async () => {
    const page = await open();
    const api = await page.evaluate(() => Object.keys((window as unknown as { Burrow: object }).Burrow).sort(), undefined);
    expect(api).toEqual(expect.arrayContaining(['createWormhole', 'WormholeError', 'parseCode', 'completeCode']));
    await page.close();
  });

  it('receives a text from the wormhole CLI', async () => {
    const cli = runWormhole(['send', '--text', 'hello, browser 🌍'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    const page = await open();
    const got = await page.evaluate(([url, c]) => (window as unknown as Win).receive(url, c), [mailbox.url, code] as const);
    expect(got.text).toBe('hello, browser 🌍');
    expect(got.verifier).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.textContent('#out')).toBe('hello, browser 🌍');
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    await page.close();
  });

  it('reports a wrong code as WrongPassword in the page', async () => {
    const cli = runWormhole(['send', '--text', 'x'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    const page = await open();
    const result = await page.evaluate(([url, c]) => (window as unknown as Win).wrongCode(url, c), [mailbox.url, wrongCode(code)] as const);
    expect(result).toBe('WrongPassword');
    expect((await cli.result).exitCode).toBe(1);
    await page.close();
  });

  it('receives a text and a file from the wormhole CLI through the gateway', async () => {
    const page = await open();
    const textCli = runWormhole(['send', '--text', `through the gateway to ${kind}`], { relayUrl: gw.url, stdin: '' });
    const text = await page.evaluate(([url, c]) => (window as unknown as Win).receiveAny(url, c), [gw.url, await textCli.code] as const);
    expect(text).toEqual({ type: 'message', text: `through the gateway to ${kind}` });
    expect((await textCli.result).exitCode).toBe(0);

    const file = join(dir, `for-${kind}.bin`);
    writeFileSync(file, randomBytes(3 * 1024 * 1024 + 17));
    const fileCli = runWormhole(['send', '--hide-progress', file], { relayUrl: gw.url, cwd: dir });
    const got = await page.evaluate(([url, c]) => (window as unknown as Win).receiveAny(url, c), [gw.url, await fileCli.code] as const);
    const want = await sha256File(file);
    expect(got).toMatchObject({ type: 'file', name: `for-${kind}.bin`, size: 3 * 1024 * 1024 + 17, sha256: want, pageSha256: want });
    expect(got.via).toBe('relay');
    const r = await fileCli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
