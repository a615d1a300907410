// What a Burrow gateway's welcome asks of a page and gives it, in each real
// browser, through the script-tag bundle:
// - a hashcash permission: the page solves it (in a Worker: the page's main
//   thread keeps ticking while it works) and completes a wormhole;
// - ICE servers: with no ICE configuration of its own and relay-only
//   candidates, a page pair connects over WebRTC through Debian coturn with
//   the credentials the gateway minted for each connection (Chromium; see below).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { startCoturn, type Coturn } from '@burrow/testkit';
import { BROWSERS, bothSides, launchBrowser, type Driver, type DriverPage } from './support/driver.js';
import { serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite } from './support/iife.js';

const SECRET = 'burrow-e2e-turn-secret';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow welcome</title>
<script src="/burrow.iife.js"></script>
<script>
  let w;
  // Open a wormhole; count 10 ms ticks of the main thread while the welcome (and its stamp) are handled.
  window.open = async (mailbox, code) => {
    let ticks = 0;
    const t = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    w = await Burrow.createWormhole({ mailbox });
    const ms = performance.now() - t0;
    clearInterval(t);
    const out = code ? (w.setCode(code), code) : await w.allocateCode();
    return { code: out, ms, ticks };
  };
  window.say = (text) => w.sendText(text, { signal: AbortSignal.timeout(30000) });
  window.hear = () => w.receiveText({ signal: AbortSignal.timeout(30000) });
  // connect() with relay candidates only and no ICE servers of our own; echo 256 KiB.
  window.relayConnect = async (leader) => {
    const conn = await w.connect({ relayOnly: true, timeoutMs: 30000 });
    let echoed = 0;
    if (leader) {
      const s = await conn.openStream();
      const data = new Uint8Array(256 * 1024).fill(9);
      const writer = s.writable.getWriter();
      await writer.write(data);
      await writer.close();
      for await (const c of s.readable) echoed += c.length;
    } else {
      const s = (await conn.incoming[Symbol.asyncIterator]().next()).value;
      const writer = s.writable.getWriter();
      for await (const c of s.readable) { echoed += c.length; await writer.write(c); }
      await writer.close();
    }
    // Stats while the path surely stands: the follower waits (bounded) for the leader to close first.
    const stats = await conn.getStats();
    if (!leader) await Promise.race([conn.closed.catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    await conn.close();
    return { kind: conn.kind, local: stats.localCandidateType, remote: stats.remoteCandidateType, echoed };
  };
  window.done = () => w.close();
</script>`;

type Opened = { code: string; ms: number; ticks: number };
type Win = {
  open(mailbox: string, code?: string): Promise<Opened>;
  say(t: string): Promise<void>;
  hear(): Promise<string>;
  relayConnect(leader: boolean): Promise<{ kind: string; local: string; remote: string; echoed: number }>;
  done(): Promise<void>;
};
const call = <K extends keyof Win>(p: DriverPage, name: K, ...args: Parameters<Win[K]>) =>
  p.evaluate(([n, a]) => (window as unknown as Record<string, (...x: unknown[]) => unknown>)[n as string]!(...(a as unknown[])), [name, args] as const) as ReturnType<Win[K]>;

describe.each(BROWSERS)('the gateway welcome in headless %s', (kind) => {
  let hashcash: Gateway;
  let withTurn: Gateway;
  let turn: Coturn;
  let site: StaticServer;
  let browser: Driver;

  beforeAll(async () => {
    turn = await startCoturn({ secret: SECRET });
    [hashcash, withTurn, site, browser] = await Promise.all([
      startGateway({ port: 0, transitPort: null, permission: { hashcash: { bits: 16 } } }),
      startGateway({ port: 0, transitPort: null, turn: { urls: [turn.url], secret: SECRET, ttlSeconds: 300 } }),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }),
      launchBrowser(kind),
    ]);
  });
  afterAll(async () => {
    await closeSuite(undefined, browser, site, hashcash, withTurn);
  });

  async function twoPages(): Promise<[DriverPage, DriverPage]> {
    const pages = [await browser.newPage(), await browser.newPage()] as [DriverPage, DriverPage];
    for (const p of pages) await p.goto(site.url);
    return pages;
  }

  it('solves a 16-bit hashcash off the main thread and completes a wormhole', async () => {
    const [a, b] = await twoPages();
    const opened = await call(a, 'open', hashcash.url);
    await call(b, 'open', hashcash.url, opened.code);
    const heard = call(b, 'hear');
    await call(a, 'say', 'stamped');
    expect(await heard).toBe('stamped');
    // The main thread ticked through the solve (a blocked thread would tick ~0 times).
    expect(opened.ticks).toBeGreaterThan(opened.ms / 10 / 4);
    await Promise.all([call(a, 'done'), call(b, 'done')]);
    await Promise.all([a.close(), b.close()]);
  }, 90_000);

  // Chromium only: Firefox 153 with relay-only candidates never connected through coturn on
  // loopback here (the call hung to the timeout; cause not found — possibly its TURN handling of a
  // loopback server address). Firefox's own TURN path is not shown by this suite.
  if (kind === 'chromium') it('connects over TURN with only the credentials minted by the gateway', async () => {
    const [a, b] = await twoPages();
    const opened = await call(a, 'open', withTurn.url);
    await call(b, 'open', withTurn.url, opened.code);
    const [ra, rb] = await bothSides(call(a, 'relayConnect', true), call(b, 'relayConnect', false));
    expect(ra).toMatchObject({ kind: 'webrtc', local: 'relay', echoed: 256 * 1024 });
    expect(rb).toMatchObject({ kind: 'webrtc', local: 'relay', echoed: 256 * 1024 });
    await Promise.all([call(a, 'done'), call(b, 'done')]);
    await Promise.all([a.close(), b.close()]);
  }, 90_000);
});
