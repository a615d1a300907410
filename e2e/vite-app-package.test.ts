// A user's own Vite app: a fresh project in a temporary folder (outside the
// repository, so nothing resolves from the workspace) installs the packed
// @burrow/protocol and @burrow/client tarballs and Vite with plain `npm i`
// (registry packages from the npm cache that `scripts/pack.mjs --warm-cache`
// filled before the test namespace was entered: no network here), imports
// `createWormhole`, builds with `vite build`, and the built page receives a
// text from the Debian `wormhole` CLI in headless Chromium. Needs the built
// packages (`pnpm build`).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, startMailboxServer, type MailboxServer } from '@burrow/testkit';
import { launchBrowser, type Driver } from './support/driver.js';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';

const run = promisify(execFile);

const INDEX_HTML = `<!doctype html>
<meta charset="utf-8">
<title>My app</title>
<pre id="out">loading</pre>
<script type="module" src="/src/main.js"></script>
`;

// What the "Use in a Vite app" guide shows.
const MAIN_JS = `import { createWormhole, toHex } from '@burrow/client';

window.receive = async (mailbox, code) => {
  const w = await createWormhole({ mailbox });
  w.setCode(code);
  const text = await w.receiveText({ signal: AbortSignal.timeout(30000) });
  const verifier = toHex(await w.verifier);
  await w.close();
  document.getElementById('out').textContent = text;
  return { text, verifier };
};
document.getElementById('out').dataset.ready = 'yes';
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('@burrow/client from its npm tarball in a fresh Vite app', () => {
  let dir: string;
  let app: string;
  let mailbox: MailboxServer;
  let site: StaticServer;
  let browser: Driver;

  beforeAll(async () => {
    assertPrivateNetwork();
    dir = makeTempDir('burrow-vite-app-');
    app = join(dir, 'my-app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'index.html'), INDEX_HTML);
    writeFileSync(join(app, 'src', 'main.js'), MAIN_JS);
    const pack = [repoPath('scripts', 'pack.mjs'), '--no-build', '--dest', join(dir, 'pack'), '--install', app, '--vite', '--offline', 'protocol', 'client'];
    [mailbox, browser] = await Promise.all([
      startMailboxServer(),
      launchBrowser('chromium'),
      run(process.execPath, pack, { cwd: dir }).then(() => run(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: app })),
    ]);
    const dist = join(app, 'dist');
    site = await serveStatic(Object.fromEntries(filesUnder(dist).map((f) => [`/${relative(dist, f)}`, f])), {});
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await cleanup();
    if (dir) removeDir(dir);
  });

  it('the built page receives a text from the wormhole CLI', async () => {
    const cli = runWormhole(['send', '--text', 'hello, my own app'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    const page = await browser.newPage();
    await page.goto(`${site.url}/index.html`);
    await page.waitFor('#out[data-ready]', { state: 'attached' });
    type Win = { receive(u: string, c: string): Promise<{ text: string; verifier: string }> };
    const got = await page.evaluate(([url, c]) => (window as unknown as Win).receive(url, c), [mailbox.url, code] as const);
    expect(got.text).toBe('hello, my own app');
    expect(got.verifier).toMatch(/^[0-9a-f]{64}$/);
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(page.errors).toEqual([]);
    await page.close();
  });
});
