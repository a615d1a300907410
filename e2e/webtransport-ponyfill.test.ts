// The mailbox over WebTransport in headless Chromium through the
// @fails-components ponyfill (its HTTP/2 WebSocket mapping) and Burrow's
// webTransportTransport, loaded from the IIFE bundle: two pages complete a
// wormhole text exchange through the gateway's WebTransport listener, and a
// page meets the Debian CLI (which uses the gateway's wss mailbox).
//
// The ponyfill is bundled here for the page from the package's own browser
// module, with `globalThis.WebTransport` defined as `undefined` at build
// time: the package's import-time probe (it constructs a native WebTransport
// to an outside host to learn whether certificate hashes are supported) is
// dead code in that build and is dropped from the bundle. Only the ponyfill
// class is exported, so the polyfill, which would use the native
// WebTransport, is not in the bundle either. The test checks both: the
// bundle text, and a page that counts native WebTransport constructions.
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, runWormhole, waitFor } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { repoPath, openPage, serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite, prepareIifeSuite } from './support/iife.js';
import { pageToPageText, writeTestCertificate } from './support/webtransport.js';


/** Bundle the ponyfill (and nothing that touches a native WebTransport) as an IIFE defining `WebTransportPonyfillBundle`. */
async function bundlePonyfill(dir: string): Promise<string> {
  const lib = join(realpathSync(repoPath('packages', 'gateway', 'node_modules', '@fails-components', 'webtransport')), 'lib');
  const entry = join(dir, 'ponyfill-entry.js');
  writeFileSync(entry, `export { WebTransportPonyfill } from ${JSON.stringify(join(lib, 'webtransport.browser.js'))};\n`);
  await build({
    configFile: false,
    root: dir,
    logLevel: 'warn',
    // The package's probe runs only `if (globalThis.WebTransport)`: false at build time, so it is not in the bundle.
    define: { 'globalThis.WebTransport': 'undefined' },
    resolve: { mainFields: ['browser', 'module', 'main'], conditions: ['browser'] },
    build: {
      outDir: join(dir, 'out'),
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      lib: { entry, name: 'WebTransportPonyfillBundle', formats: ['iife'], fileName: () => 'ponyfill.js' },
    },
  });
  return join(dir, 'out', 'ponyfill.js');
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow over WebTransport (ponyfill)</title>
<script>
  // Count native WebTransport constructions: loading the ponyfill must make none.
  window.nativeWebTransports = 0;
  if (window.WebTransport) {
    const Native = window.WebTransport;
    window.WebTransport = class extends Native {
      constructor(...args) { window.nativeWebTransports++; super(...args); }
    };
  }
</script>
<script src="/burrow.iife.js"></script>
<script src="/ponyfill.js"></script>
<script>
  const transport = () => Burrow.webTransportTransport({ WebTransport: WebTransportPonyfillBundle.WebTransportPonyfill });
  // Allocate a code and send a text; resolves with the code, the send goes on.
  window.send = async (mailbox, text) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport() });
    const code = await w.allocateCode();
    window.sent = w.sendText(text).then(async () => ({ verifier: Burrow.toHex(await w.verifier) })).finally(() => w.close());
    return code;
  };
  window.receive = async (mailbox, code) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport() });
    w.setCode(code);
    try {
      const text = await w.receiveText({ signal: AbortSignal.timeout(30000) });
      return { text, verifier: Burrow.toHex(await w.verifier) };
    } finally {
      await w.close();
    }
  };
</script>`;

type Win = {
  send(mailbox: string, text: string): Promise<string>;
  sent: Promise<{ verifier: string }>;
  receive(mailbox: string, code: string): Promise<{ text: string; verifier: string }>;
  nativeWebTransports: number;
  WebTransportPonyfillBundle: { WebTransportPonyfill: unknown };
};

describe('WebTransport mailbox in headless Chromium (ponyfill, WebSocket mapping)', () => {
  let dir: string;
  let certFile: string;
  let ponyfill: string;
  let gw: Gateway;
  let site: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  let mailbox: string;

  beforeAll(async () => {
    if (!readFileSync(IIFE, 'utf8').includes('webTransportTransport')) throw new Error(`${IIFE} predates webTransportTransport: run \`pnpm build\``);
    dir = prepareIifeSuite('burrow-wt-ponyfill-');
    const tls = writeTestCertificate(dir);
    certFile = tls.certFile;
    ponyfill = await bundlePonyfill(dir);
    [gw, site, browser] = await Promise.all([
      startGateway({ port: 0, transitPort: 0, webtransportPort: 0, tls: { cert: tls.cert, key: tls.key } }),
      serveStatic({ '/burrow.iife.js': IIFE, '/ponyfill.js': ponyfill }, { '/': PAGE }),
      launchChromium(),
    ]);
    mailbox = `${gw.webtransportUrl!}/v1`;
    // The ponyfill's WebSocket goes to wss://127.0.0.1 with the test's self-signed certificate.
    context = await browser.newContext({ ignoreHTTPSErrors: true });
  });
  afterAll(async () => {
    await closeSuite(dir, context, browser, site, gw);
  });

  const open = () => openPage(context, site.url);

  it('bundles the ponyfill without the probe of an outside host or any native WebTransport use', async () => {
    const text = readFileSync(ponyfill, 'utf8');
    expect(text).toContain('class WebTransportPonyfill');
    expect(text).not.toContain('example.com');
    expect(text).not.toMatch(/new WebTransport\(/);
    expect(text).not.toContain('serverCertificateHashesNotSupported');
    const { page, errors } = await open();
    const loaded = await page.evaluate(() => ({
      native: typeof (window as unknown as { WebTransport?: unknown }).WebTransport,
      ponyfill: typeof (window as unknown as Win).WebTransportPonyfillBundle.WebTransportPonyfill,
      constructions: (window as unknown as Win).nativeWebTransports,
    }));
    // Chromium has a native WebTransport (the probe would have fired), the ponyfill loaded, and nothing was constructed.
    expect(loaded).toEqual({ native: 'function', ponyfill: 'function', constructions: 0 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('two pages complete a wormhole text exchange over the gateway WebTransport mailbox', async () => {
    const a = await open();
    const b = await open();
    await pageToPageText(a.page, b.page, [mailbox], 'page to page over WebTransport 🌍');
    for (const p of [a, b]) {
      expect(await p.page.evaluate(() => (window as unknown as Win).nativeWebTransports)).toBe(0);
      expect(p.errors).toEqual([]);
      await p.page.close();
    }
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'every mailbox connection gone' });
    expect(gw.stats().mailbox).toMatchObject({ connections: 0, nameplates: 0, mailboxes: 0 });
  });

  it('a page on WebTransport receives a text from the Debian CLI on the gateway wss mailbox', async () => {
    // The CLI trusts the test certificate through OpenSSL's SSL_CERT_FILE.
    const cli = runWormhole(['send', '--text', 'from the CLI to a WebTransport page'], { relayUrl: gw.url, stdin: '', env: { SSL_CERT_FILE: certFile } });
    const code = await cli.code;
    const { page, errors } = await open();
    const got = await page.evaluate(([m, c]) => (window as unknown as Win).receive(m, c), [mailbox, code] as const);
    expect(got.text).toBe('from the CLI to a WebTransport page');
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
