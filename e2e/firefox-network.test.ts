// Nothing but loopback: Firefox (and Chromium beside it) run under
// `strace -f`, recording every connect/sendto/sendmsg of every browser
// process, while they start, sit idle through their start-up services,
// load a page over HTTP, meet through the gateway's mailbox and stream
// over WebRTC.
//
// Firefox must not even try anything but 127.0.0.1 / ::1 (or a local
// Unix/netlink socket): no DNS, no update, telemetry, remote-settings,
// safe-browsing or captive-portal probe. Chromium, with the rig's flags,
// still tries a few (DNS for its update service, libwebrtc's default-route
// probe of 8.8.8.8); the run is inside a network namespace whose only
// interface is `lo`, so each of those must have been refused by the
// kernel (ENETUNREACH): nothing left the machine.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertPrivateNetwork,
  auditedExecutable,
  chromiumPath,
  cleanup,
  makeTempDir,
  nonLoopbackCalls,
  readNetworkAudit,
  removeDir,
  runWormhole,
  type NetworkCall,
} from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { launchBrowser, type Driver } from './support/driver.js';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';
import { WEBRTC_PAGE, type ExchangeResult, type PageConnectResult } from './support/webrtc-page.js';

const IIFE = repoPath('packages', 'client', 'dist', 'burrow.iife.js');
/** How long the browsers live in all: long enough for their delayed start-up tasks. */
const LIFETIME_MS = 25_000;

type Win = {
  setup(mailbox: string, code?: string): Promise<string>;
  connect(opts: unknown): Promise<PageConnectResult>;
  exchange(n: number, bytes: number): Promise<ExchangeResult>;
  closeAll(): Promise<void>;
};

/** `AF_INET 127.0.0.1:4000 ×3, …` — the distinct destinations, for the log. */
function summary(calls: readonly NetworkCall[]): string {
  const byAddress = new Map<string, number>();
  for (const c of calls) if (c.family !== 'none') byAddress.set(c.address, (byAddress.get(c.address) ?? 0) + 1);
  return [...byAddress].map(([a, n]) => `${a} ×${n}`).join(', ');
}

describe('the browsers contact nothing but loopback', () => {
  let gateway: Gateway;
  let site: StaticServer;
  let dir: string;
  let firefox: Driver | undefined;
  let chromium: Driver | undefined;

  beforeAll(async () => {
    assertPrivateNetwork();
    dir = makeTempDir('burrow-netaudit-');
    [gateway, site] = await Promise.all([startGateway({ port: 0, transitPort: 0 }), serveStatic({ '/burrow.iife.js': IIFE }, { '/': WEBRTC_PAGE })]);
  });
  afterAll(async () => {
    await firefox?.close();
    await chromium?.close();
    await site?.close();
    await gateway?.close();
    await cleanup();
    if (dir) removeDir(dir);
  });

  it('Firefox and Chromium, audited from launch to exit: start-up, idle, page load, mailbox, WebRTC', async () => {
    const ffAudit = join(dir, 'firefox.strace');
    const chAudit = join(dir, 'chromium.strace');
    const started = Date.now();
    const previous = process.env['BURROW_CHROMIUM'];
    process.env['BURROW_CHROMIUM'] = auditedExecutable(chromiumPath(), chAudit, dir);
    try {
      [firefox, chromium] = await Promise.all([launchBrowser('firefox', { firefox: { auditFile: ffAudit } }), launchBrowser('chromium')]);
    } finally {
      if (previous === undefined) delete process.env['BURROW_CHROMIUM'];
      else process.env['BURROW_CHROMIUM'] = previous;
    }

    // A page in each; Firefox also receives a text from the wormhole CLI through the gateway.
    const [a, b] = await Promise.all([firefox.newPage(), chromium.newPage()]);
    await Promise.all([a.goto(site.url), b.goto(site.url)]);
    const cli = runWormhole(['send', '--text', 'audited'], { relayUrl: gateway.url, transitHelper: gateway.transitHint!, stdin: '' });
    const text = await a.evaluate(
      async ([m, c]) => {
        const B = (window as unknown as { Burrow: { createWormhole(o: object): Promise<{ setCode(c: string): void; receiveText(): Promise<string>; close(): Promise<void> }> } }).Burrow;
        const w = await B.createWormhole({ mailbox: m });
        w.setCode(c);
        const t = await w.receiveText();
        await w.close();
        return t;
      },
      [gateway.url, await cli.code] as const,
    );
    expect(text).toBe('audited');
    expect((await cli.result).exitCode).toBe(0);

    // Firefox ↔ Chromium over WebRTC (ICE on loopback), 4 streams each way.
    const code = await a.evaluate(([m]) => (window as unknown as Win).setup(m), [gateway.url] as const);
    await b.evaluate(([m, c]) => (window as unknown as Win).setup(m, c), [gateway.url, code] as const);
    const [ra, rb] = await Promise.all([a.evaluate((o) => (window as unknown as Win).connect(o), {}), b.evaluate((o) => (window as unknown as Win).connect(o), {})]);
    expect([ra.kind, rb.kind]).toEqual(['webrtc', 'webrtc']);
    const [x, y] = await Promise.all([
      a.evaluate(([n, s]) => (window as unknown as Win).exchange(n, s), [4, 1 << 20] as const),
      b.evaluate(([n, s]) => (window as unknown as Win).exchange(n, s), [4, 1 << 20] as const),
    ]);
    expect([...y.got].sort()).toEqual([...x.sent].sort());
    await Promise.all([a, b].map((p) => p.evaluate(() => (window as unknown as Win).closeAll(), undefined)));

    // Let the background services that start late have their go, then exit (strace flushes).
    // Not a wait for an event: the audit covers a fixed browser lifetime, whatever happens in it.
    const idle = LIFETIME_MS - (Date.now() - started);
    if (idle > 0) await new Promise((r) => setTimeout(r, idle));
    await Promise.all([firefox.close(), chromium.close()]);
    firefox = chromium = undefined;

    for (const [name, file] of [['firefox', ffAudit], ['chromium', chAudit]] as const) {
      const calls = readNetworkAudit(file);
      const outside = nonLoopbackCalls(calls);
      console.log(`${name}: ${calls.length} network syscalls; destinations: ${summary(calls)}`);
      if (name === 'firefox') {
        expect(outside.map((c) => c.line), 'Firefox named addresses outside loopback').toEqual([]);
      } else {
        for (const c of outside) console.log(`chromium outside-loopback attempt: ${c.line}`);
        const got = outside.filter((c) => !/^-1 E(NETUNREACH|HOSTUNREACH|NETDOWN|ADDRNOTAVAIL|PERM|ACCES)\b/.test(c.result));
        expect(got.map((c) => c.line), 'Chromium reached an address outside loopback').toEqual([]);
      }
      // The audit saw the real traffic: TCP to the page server and the gateway, UDP (ICE/SCTP) on loopback.
      const inet = calls.filter((c) => c.family === 'inet');
      expect(inet.some((c) => c.syscall === 'connect' && c.address.endsWith(`:${new URL(site.url).port}`)), `${name}: connect to the page server`).toBe(true);
      expect(inet.some((c) => c.syscall === 'connect' && c.address.endsWith(`:${gateway.port}`)), `${name}: connect to the gateway`).toBe(true);
      expect(inet.some((c) => c.syscall !== 'connect' && c.ip === '127.0.0.1'), `${name}: UDP datagrams to 127.0.0.1`).toBe(true);
    }
  }, 120_000);
});
