// A person's path through the playground, against the gateway, in each
// browser (Chromium via playwright-core, Firefox via puppeteer-core):
// browser → browser text and a 50 MB file (files-v1 over WebRTC), several
// files and a folder queued into one offer, a receiving tab closed halfway
// and resumed with a new code, the connect() demo, CLI → browser file,
// browser → CLI directory (Transit v1), and a wrong code. Screenshots of
// each screen go to test-results/screenshots/BROWSER/.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, waitFor, wrongCode } from '@burrow/testkit';
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
    expect(await bob.textContent('[data-testid=path]')).toContain('WebRTC');
    expect(await bob.textContent('[data-testid=route]')).toBe('Route: direct');
  }, 180_000);

  it('browser → browser, files and a folder queued into one offer, over WebRTC with route, rate, RTT and time left', async () => {
    const picks = join(dir, 'queue');
    mkdirSync(join(picks, 'pics', 'sub'), { recursive: true });
    const files = { 'one.bin': randomBytes(3 * MB), 'two.txt': Buffer.from('second file\n'.repeat(500)), 'pics/a.bin': randomBytes(2 * MB), 'pics/sub/b.bin': randomBytes(700_000) };
    for (const [path, data] of Object.entries(files)) writeFileSync(join(picks, path), data);
    const [alice, bob] = await Promise.all([page(), page()]);
    await alice.setInputFiles('#file-input', join(picks, 'one.bin'));
    await alice.setInputFiles('#file-input', join(picks, 'two.txt'));
    await alice.setInputFiles('#dir-input', join(picks, 'pics'));
    await alice.waitFor('#file-list li.total');
    expect(await alice.textContent('#file-list li.total')).toContain('3 items');
    await shot(alice, '10-queue');
    const code = await startSend(alice);
    await typeCodeAndReceive(bob, code);
    await bob.waitFor('[data-testid=files-offer]', { timeout: 30_000 });
    expect(await bob.textContent('[data-testid=files-offer]')).toContain('4 files');
    await shot(bob, '11-files-offer');
    await bob.click('#accept');
    await bob.waitFor('#receive-status .ok', { timeout: 60_000 });
    await alice.waitFor('#send-status .ok', { timeout: 30_000 });
    await shot(bob, '12-files-received');
    for (const side of [alice, bob]) {
      expect(await side.textContent('[data-testid=route]')).toBe('Route: direct');
      expect(await side.textContent('[data-testid=rtt]')).toMatch(/^RTT (\d+ ms|…)$/);
      expect(await side.textContent('[data-testid=rate]')).toMatch(/\/s( average)?$/);
      expect(await side.textContent('[data-testid=path]')).toContain('4 files');
    }
    for (const [path, data] of Object.entries(files)) {
      const want = createHash('sha256').update(data).digest('hex');
      expect(await bob.downloadSha256(`#received-files a[data-path="${path}"]`), path).toBe(want);
    }
  }, 120_000);

  it('browser → browser, the receiving tab closed halfway: a new tab offers resume, a new code moves only the rest', async () => {
    const picks = join(dir, 'resume');
    mkdirSync(picks, { recursive: true });
    const names = ['r1.bin', 'r2.bin', 'r3.bin'];
    for (const n of names) writeFileSync(join(picks, n), randomBytes(12 * MB));
    const [alice, bob] = await Promise.all([page(), page()]);
    for (const n of names) await alice.setInputFiles('#file-input', join(picks, n));
    // Past 60 % of each file the picked files read slowly, so the tab is surely closed before the end.
    await alice.evaluate(() => {
      const real = Blob.prototype.stream;
      (window as unknown as { realStream: typeof real }).realStream = real;
      Blob.prototype.stream = function (this: Blob) {
        const source = real.call(this).getReader();
        const slowFrom = this.size * 0.6;
        let read = 0;
        return new ReadableStream<Uint8Array>({
          async pull(c) {
            const r = await source.read();
            if (r.done) return c.close();
            read += r.value.length;
            if (read > slowFrom) await new Promise((res) => setTimeout(res, 100));
            c.enqueue(r.value);
          },
          cancel: (why) => source.cancel(why),
        });
      } as typeof real;
    }, undefined);
    const code = await startSend(alice);
    await typeCodeAndReceive(bob, code);
    await bob.click('#accept', { timeout: 30_000 });
    await waitFor(
      () => bob.evaluate(() => { const p = document.querySelector<HTMLProgressElement>('#receive-status progress'); return p !== null && p.value >= p.max / 2; }, undefined),
      { timeoutMs: 60_000, intervalMs: 20, message: 'half received' },
    );
    await bob.closeTab();
    await alice.click('#cancel-send');
    await alice.waitFor('#send-status .bad', { timeout: 30_000 });

    await alice.evaluate(() => void (Blob.prototype.stream = (window as unknown as { realStream: typeof Blob.prototype.stream }).realStream), undefined);
    const bob2 = await bob.newTab();
    await openPlayground(bob2, site.url, gw.url);
    await bob2.waitFor('[data-testid=partials]');
    await shot(bob2, '13-resume-offered');
    const code2 = await startSend(alice);
    expect(code2).not.toBe(code);
    await bob2.click('#resume-button');
    await typeCodeAndReceive(bob2, code2);
    await bob2.waitFor('[data-testid=resumable]', { timeout: 30_000 });
    await bob2.click('#accept');
    await bob2.waitFor('#receive-status .ok', { timeout: 60_000 });
    await shot(bob2, '14-resumed');
    expect(await bob2.textContent('[data-testid=path]')).toContain('resumed');
    for (const n of names) expect(await bob2.downloadSha256(`#received-files a[data-path="${n}"]`), n).toBe(await sha256File(join(picks, n)));
    await bob2.waitFor('[data-testid=resume]', { state: 'attached' });
    expect(await bob2.evaluate(() => document.querySelector<HTMLElement>('[data-testid=resume]')!.hidden, undefined)).toBe(true);
    expect(bob2.errors).toEqual([]);
  }, 180_000);

  it('the connect() demo: two pages connect, a message is echoed on a new stream, getStats() shown', async () => {
    const [alice, bob] = await Promise.all([page(), page()]);
    await alice.click('#connect-button');
    await alice.waitFor('[data-testid=connect-code]', { timeout: 20_000 });
    const code = (await alice.textContent('[data-testid=connect-code]'))!.trim();
    await bob.fill('#connect-join', code);
    await bob.click('#connect-button');
    for (const side of [alice, bob]) await side.waitFor('[data-testid=connect-ok]', { timeout: 30_000 });
    await bob.fill('#echo-text', 'ping from bob');
    await bob.click('#echo-button');
    await waitFor(async () => (await bob.textContent('[data-testid=echo-log]'))?.includes('← ping from bob'), { timeoutMs: 20_000, message: 'the echo' });
    const stats = JSON.parse((await bob.textContent('[data-testid=connect-stats]'))!) as { kind: string; route: string; bytesSent: number };
    expect(stats).toMatchObject({ kind: 'webrtc', route: 'direct' });
    await shot(bob, '15-connect-demo');
    await bob.click('#connect-close');
  }, 60_000);

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
