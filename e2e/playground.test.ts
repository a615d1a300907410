// A person's path through the playground, against the gateway, in each
// browser (Chromium via playwright-core, Firefox via puppeteer-core):
// browser → browser text and a 50 MB file, CLI → browser file, browser →
// CLI directory, and a wrong code. Screenshots of each screen go to
// test-results/screenshots/BROWSER/.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, wrongCode } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { BROWSERS, launchBrowser, type Driver, type DriverPage } from './support/driver.js';
import { openPlayground, servePlayground, shot, startSend, typeCodeAndReceive } from './support/playground.js';

const MB = 1000 * 1000;

describe.each(BROWSERS)('playground e2e (%s)', (kind) => {
  let gw: Gateway;
  let site: { url: string; close(): Promise<void> };
  let browser: Driver;
  let dir: string;
  let pages: DriverPage[] = [];

  beforeAll(async () => {
    assertPrivateNetwork();
    dir = makeTempDir('burrow-e2e-');
    [gw, site, browser] = await Promise.all([startGateway({ port: 0, transitPort: 0 }), servePlayground(), launchBrowser(kind)]);
  });
  afterEach(async () => {
    for (const p of pages) expect(p.errors, `uncaught errors in the ${kind} page`).toEqual([]);
    await Promise.all(pages.map((p) => p.close()));
    pages = [];
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await gw?.close();
    await cleanup();
    removeDir(dir);
  });

  async function page(): Promise<DriverPage> {
    const p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    pages.push(p);
    await openPlayground(p, site.url, gw.url);
    return p;
  }

  /** Click the link of a received file and return the sha256 of what the browser saved. */
  const download = (p: DriverPage, name: string): Promise<string> => p.downloadSha256(`#received-files a[download="${name}"]`);

  it('browser → browser text, verifier words equal on both screens', async () => {
    const [alice, bob] = await Promise.all([page(), page()]);
    await shot(alice, '01-start');
    await alice.fill('#send-text', 'hello from one tab to another');
    const code = await startSend(alice);
    expect(code).toMatch(/^\d+-[a-z]+-[a-z]+$/);
    await shot(alice, '02-send-code');
    await bob.fill('#receive-code', code.slice(0, code.length - 3));
    await shot(bob, '03-receive-typing');
    await typeCodeAndReceive(bob, code);
    await bob.waitFor('[data-testid=received-text]', { timeout: 30_000 });
    expect(await bob.textContent('[data-testid=received-text]')).toBe('hello from one tab to another');
    await alice.waitFor('#send-status .ok', { timeout: 30_000 });
    const [va, vb] = await Promise.all([alice.textContent('[data-testid=verifier]'), bob.textContent('[data-testid=verifier]')]);
    expect(va).toMatch(/^[a-z]+( [a-z]+){5}$/);
    expect(va).toBe(vb);
    await shot(bob, '04-received-text');
  });

  it('browser → browser, a 50 MB file, sha256 equal', async () => {
    const file = join(dir, 'big.bin');
    writeFileSync(file, randomBytes(50 * MB));
    const [alice, bob] = await Promise.all([page(), page()]);
    await alice.setInputFiles('#file-input', file);
    await alice.waitFor('#file-list li');
    await shot(alice, '05-file-picked');
    const code = await startSend(alice);
    await typeCodeAndReceive(bob, code);
    await bob.click('#accept', { timeout: 30_000 });
    await bob.waitFor('[data-testid=progress]', { timeout: 30_000 });
    await shot(bob, '06-progress');
    await bob.waitFor('#receive-status .ok', { timeout: 120_000 });
    await shot(bob, '07-file-received');
    expect(await download(bob, 'big.bin')).toBe(await sha256File(file));
    expect(await bob.textContent('[data-testid=path]')).toContain('relay');
  }, 180_000);

  it('CLI → browser, a file through the gateway', async () => {
    const file = join(dir, 'from-cli.txt');
    writeFileSync(file, `made by the wormhole CLI ${randomBytes(8).toString('hex')}\n`.repeat(1000));
    const cli = runWormhole(['send', '--hide-progress', file], { relayUrl: gw.url, cwd: dir });
    const bob = await page();
    await typeCodeAndReceive(bob, await cli.code);
    await bob.click('#accept', { timeout: 30_000 });
    await bob.waitFor('#receive-status .ok', { timeout: 60_000 });
    expect(await download(bob, 'from-cli.txt')).toBe(await sha256File(file));
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('browser → CLI, a directory through the gateway', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(tree, 'a.txt'), 'alpha\n');
    writeFileSync(join(tree, 'sub', 'b.bin'), randomBytes(300_000));
    writeFileSync(join(tree, 'sub', 'deeper', 'ç é.txt'), 'odd name\n');
    const alice = await page();
    await alice.setInputFiles('#dir-input', tree);
    await alice.waitFor('#file-list li');
    const code = await startSend(alice);
    const out = join(dir, 'cli-out');
    mkdirSync(out);
    const cli = runWormhole(['receive', '--accept-file', '--hide-progress', code], { relayUrl: gw.url, cwd: out });
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    await alice.waitFor('#send-status .ok', { timeout: 30_000 });
    await shot(alice, '08-directory-sent');
    const walk = (d: string, prefix = ''): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n), `${prefix}${n}/`) : [`${prefix}${n}`]));
    const got = walk(join(out, 'tree')).sort();
    expect(got).toEqual(['a.txt', 'sub/b.bin', 'sub/deeper/ç é.txt']);
    for (const f of got) expect(await sha256File(join(out, 'tree', f))).toBe(await sha256File(join(tree, f)));
  });

  it('a wrong code is shown as such on both sides', async () => {
    const [alice, bob] = await Promise.all([page(), page()]);
    await alice.fill('#send-text', 'never arrives');
    const code = await startSend(alice);
    await typeCodeAndReceive(bob, wrongCode(code));
    await bob.waitFor('#receive-status .bad', { timeout: 30_000 });
    expect(await bob.textContent('#receive-status')).toContain('The codes did not match');
    await alice.waitFor('#send-status .bad', { timeout: 30_000 });
    expect(await alice.textContent('#send-status')).toContain('WrongPassword');
    await shot(bob, '09-wrong-code');
  });
});
