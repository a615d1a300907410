// The script-tag bundle in a real browser: a plain HTML page that loads only
// packages/client/dist/burrow.iife.js receives a text from the Debian CLI.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertPrivateNetwork, cleanup, launchChromium, runWormhole, startMailboxServer, type MailboxServer } from '@burrow/testkit';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';

const IIFE = repoPath('packages', 'client', 'dist', 'burrow.iife.js');

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
</script>`;

describe('IIFE bundle in headless Chromium', () => {
  let mailbox: MailboxServer;
  let site: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    assertPrivateNetwork();
    if (!existsSync(IIFE)) throw new Error(`${IIFE} is missing: run \`pnpm build\` first`);
    [mailbox, site, browser] = await Promise.all([
      startMailboxServer(),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await cleanup();
  });

  it('exposes the global Burrow with the client API', async () => {
    const page = await browser.newPage();
    await page.goto(site.url);
    const api = await page.evaluate(() => Object.keys((window as unknown as { Burrow: object }).Burrow).sort());
    expect(api).toEqual(expect.arrayContaining(['createWormhole', 'WormholeError', 'parseCode', 'completeCode']));
    await page.close();
  });

  it('receives a text from the wormhole CLI', async () => {
    const cli = runWormhole(['send', '--text', 'hello, browser 🌍'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    const page = await browser.newPage();
    await page.goto(site.url);
    const got = await page.evaluate(
      ([url, c]) => (window as unknown as { receive(u: string, c: string): Promise<{ text: string; verifier: string }> }).receive(url!, c!),
      [mailbox.url, code],
    );
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
    const page = await browser.newPage();
    await page.goto(site.url);
    const result = await page.evaluate(
      ([url, c]) => (window as unknown as { wrongCode(u: string, c: string): Promise<string> }).wrongCode(url!, c!),
      [mailbox.url, code.replace(/-[a-z]+$/, '-aardvark')],
    );
    expect(result).toBe('WrongPassword');
    expect((await cli.result).exitCode).toBe(1);
    await page.close();
  });
});
