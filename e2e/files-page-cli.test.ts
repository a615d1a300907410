// A Chromium page (the script-tag bundle) sends two files with sendFiles to
// `burrow receive` (the Node CLI, node-datachannel): they arrive over WebRTC
// with the SHA-256 the page computed, and both ends say via webrtc.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { launchBrowser, type Driver, type DriverPage } from './support/driver.js';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite } from './support/iife.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow sendFiles</title>
<script src="/burrow.iife.js"></script>
<script>
  const made = (n, seed) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 11)) & 255; return b; };
  const hex = async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((x) => x.toString(16).padStart(2, '0')).join('');
  window.start = async (mailbox) => {
    window.w = await Burrow.createWormhole({ mailbox });
    return window.w.allocateCode();
  };
  window.send = async () => {
    const files = [new File([made(5_000_000, 7)], 'first.bin'), new File([made(123_457, 13)], 'second.txt')];
    const items = files.map((f) => ({ name: f.name, size: f.size, stream: () => f.stream() }));
    const result = await Burrow.sendFiles(window.w, items, { signal: AbortSignal.timeout(60000) });
    const sha = {};
    for (const f of files) sha[f.name] = await hex(await f.arrayBuffer());
    await window.w.close();
    return { via: result.via, files: result.files.map((f) => ({ path: f.path, sha256: f.sha256 })), sha };
  };
</script>`;

type Sent = { via: string; files: { path: string; sha256: string }[]; sha: Record<string, string> };

describe('a Chromium page sends files to burrow receive', () => {
  let gw: Gateway;
  let site: StaticServer;
  let browser: Driver;
  let page: DriverPage;

  beforeAll(async () => {
    [gw, site, browser] = await Promise.all([startGateway({ port: 0, transitPort: 0 }), serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }), launchBrowser('chromium')]);
    page = await browser.newPage();
    await page.goto(site.url);
  });
  afterAll(async () => {
    await closeSuite(undefined, browser, site, gw);
  });

  it('two files arrive over WebRTC, checksums equal', async () => {
    const code = await page.evaluate((u) => (window as unknown as { start(u: string): Promise<string> }).start(u), gw.url);
    const dir = mkdtempSync(join(tmpdir(), 'burrow-page-cli-'));
    const tsx = pathToFileURL(repoPath('node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const argv = ['--conditions=source', '--import', tsx, repoPath('packages', 'cli', 'src', 'main.ts'), 'receive', '--json', '--accept-file', '--relay-url', gw.url, '-o', dir, code];
    const cli = spawn(process.execPath, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('close', (c) => resolve(c)));
    const sent = await page.evaluate(() => (window as unknown as { send(): Promise<Sent> }).send(), undefined);
    expect(await exited, err).toBe(0);
    const done = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; via?: string; files?: { path: string; sha256: string }[] })
      .find((e) => e.event === 'done');
    expect(sent.via).toBe('webrtc');
    expect(done?.via).toBe('webrtc');
    for (const name of ['first.bin', 'second.txt']) {
      const disk = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
      expect(disk, name).toBe(sent.sha[name]);
      expect(done?.files?.find((f) => f.path === name)?.sha256).toBe(disk);
    }
    expect(sent.files.map((f) => f.sha256).sort()).toEqual(Object.values(sent.sha).sort());
  }, 90_000);
});
