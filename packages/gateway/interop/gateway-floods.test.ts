// Floods against the gateway from other loopback addresses (127.9.x.y: one
// /24 per flood, several addresses in it), each while the Debian `wormhole`
// CLI on 127.0.0.1 completes a wormhole: the flood is cut by the limit meant
// to cut it — named in the log and counted in /metrics — and the CLI never
// notices. Then a mixed run whose usage records and /metrics show every
// outcome kind. Limits are set small so each flood is over in a second.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, waitFor } from '@burrow/testkit';
import type { UsageRecord } from '@burrow/protocol/server';
import { startGateway, type Gateway } from '../src/index.js';
import { cliOptions, cliText as cliTextThrough } from './support/cli.js';
import { APPID, wsMailboxClient, type Frame, type RawMailboxClient } from '../test/support/raw-mailbox.js';

describe('gateway floods from a few addresses, with a real CLI on another', () => {
  let gw: Gateway;
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const usage: UsageRecord[] = [];
  const dirs: string[] = [];
  const log = (event: string, fields?: Record<string, unknown>) => logs.push({ event, fields: fields ?? {} });
  const limited = (limit: string) => logs.some((l) => l.fields['limit'] === limit);

  beforeAll(async () => {
    assertPrivateNetwork();
    gw = await startGateway({
      port: 0,
      transitPort: 0,
      pruneIntervalMs: 200,
      mailboxLimits: {
        maxConnectionsPerAddress: 20,
        maxConnectionsPerPrefix: 50,
        maxAllocationsPerAddress: 10,
        maxAllocationsPerPrefix: 25,
        maxCharsPerAddress: 2 << 20,
        maxCharsPerPrefix: 5 << 20,
        unclaimedExpiryMs: 1_000,
        framesPerSecondPerAddress: 50,
        framesPerSecondPerPrefix: 500,
        frameBurstSeconds: 2,
      },
      relayLimits: { maxConnectionsPerAddress: 10, maxConnectionsPerPrefix: 25, handshakeTimeoutMs: 1_000 },
      onUsage: (r) => usage.push(r),
      logger: { info: log, warn: log },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  const cli = () => cliOptions(gw);
  const cliText = (text: string) => cliTextThrough(gw, text);

  const raw = (localAddress: string) => wsMailboxClient(gw.url, { localAddress });
  /** Send `frame`, then wait for the first frame of one of `types` after it. */
  async function ask(c: RawMailboxClient, frame: Record<string, unknown>, types: string[]): Promise<Frame> {
    const from = c.frames.length;
    c.send(frame);
    return waitFor(() => c.frames.slice(from).find((f) => types.includes(f.type)), { message: types.join('/') });
  }
  const metrics = async (): Promise<string> => (await fetch(gw.url.replace(/^ws/, 'http').replace(/\/v1$/, '/metrics'))).text();

  it('stored bytes: one /24 filling mailboxes is cut per address, then per prefix; others still add', async () => {
    const body = 'ab'.repeat(100_000); // 200 k characters per add
    const errors: string[] = [];
    const held: RawMailboxClient[] = [];
    for (let i = 2; i <= 5; i++) {
      const c = await raw(`127.9.0.${i}`);
      held.push(c);
      c.send({ type: 'bind', appid: APPID, side: `stuff${i}` });
      c.send({ type: 'open', mailbox: `flood-${i}` });
      for (let n = 0; n < 30; n++) {
        const reply = await ask(c, { type: 'add', phase: String(n), body }, ['message', 'error']);
        if (reply.type === 'error') {
          errors.push(reply['error'] as string);
          break;
        }
      }
    }
    expect(errors).toContain('too much stored from your address, try again later');
    expect(errors).toContain('too much stored from your network, try again later');
    expect(gw.stats().mailbox.chars).toBeLessThanOrEqual(5 << 20);
    // The flood still holds its mailboxes open; a wormhole from elsewhere completes.
    await cliText('stored-bytes flood did not stop me');
    expect(limited('stored.address') && limited('stored.prefix')).toBe(true);
    for (const c of held) c.close();
  });

  it('allocations: ten addresses allocate and hang up; cut per address and per prefix, gone within seconds', async () => {
    const flood = async (a: number): Promise<string[]> => {
      const got: string[] = [];
      for (let n = 0; n < 15; n++) {
        const c = await raw(`127.9.1.${a + 2}`);
        c.send({ type: 'bind', appid: APPID, side: `alloc${a}x${n}` });
        const reply = await ask(c, { type: 'allocate' }, ['allocated', 'error']);
        got.push(reply.type === 'allocated' ? 'ok' : (reply['error'] as string));
        c.close();
      }
      return got;
    };
    // One address alone first (its own cap), then nine together (the /24's cap).
    const first = await flood(0);
    expect(first.filter((r) => r === 'ok')).toHaveLength(10);
    const rest = await Promise.all(Array.from({ length: 9 }, (_, a) => flood(a + 1)));
    const all = [...first, ...rest.flat()];
    // Abandoned allocations expire while the flood runs (1 s here), so more than 25 get through in all, never more than 25 at once.
    expect(all.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(25);
    expect(gw.stats().mailbox.nameplates).toBeLessThanOrEqual(25);
    expect(all).toContain('too many nameplates and mailboxes from your address');
    expect(all).toContain('too many nameplates and mailboxes from your network');
    await cliText('allocation flood did not stop me');
    expect(limited('allocations.address') && limited('allocations.prefix')).toBe(true);
    // Unclaimed, unsubscribed: expired in about a second, not eleven minutes.
    await waitFor(() => gw.stats().mailbox.nameplates === 0, { message: 'abandoned allocations to expire', timeoutMs: 5_000 });
    expect(usage.some((u) => u.kind === 'nameplate' && u.mood === 'pruney')).toBe(true);
  });

  it('connections: a /24 opening sockets is refused per address and per prefix while a CLI connects', async () => {
    const open: WebSocket[] = [];
    let refused = 0;
    const flood = async (a: number): Promise<void> => {
        for (let n = 0; n < 25; n++) {
          const ws = new WebSocket(gw.url, { localAddress: `127.9.2.${a + 2}` });
          ws.on('error', () => {
            /* refusals show as unexpected-response; the socket's error follows */
          });
          const ok = await new Promise<boolean>((resolve) => {
            ws.once('open', () => resolve(true));
            ws.once('unexpected-response', () => resolve(false));
          });
          if (ok) open.push(ws);
          else refused++;
        }
    };
    // One address alone first (its own cap), then four together (the /24's cap).
    await flood(0);
    expect(open).toHaveLength(20);
    await Promise.all([1, 2, 3, 4].map(flood));
    expect(open).toHaveLength(50);
    expect(refused).toBe(75);
    await cliText('connection flood did not stop me');
    expect(limited('connections.address') && limited('connections.prefix')).toBe(true);
    for (const ws of open) ws.terminate();
  });

  it('frames: a client sending as fast as it can is cut off by the frame rate', async () => {
    const c = await raw('127.9.3.2');
    c.send({ type: 'bind', appid: APPID, side: 'chatty' });
    for (let i = 0; i < 1_000 && c.ws.readyState === WebSocket.OPEN; i++) c.send({ type: 'ping', ping: i });
    // Cut without a close handshake (a flood gets no courtesy): 1006 on the client's side.
    expect(await c.closed).toBe(1006);
    await cliText('frame flood did not stop me');
    expect(limited('frames.address')).toBe(true);
  });

  it('relay: silent connections from a /24 are capped and time out; a relayed CLI file goes through', async () => {
    const sockets: Socket[] = [];
    let cut = 0;
    for (let a = 0; a < 5; a++) {
      for (let n = 0; n < 12; n++) {
        const s = connect({ port: gw.transitPort!, host: '127.0.0.1', localAddress: `127.9.4.${a + 2}` });
        s.on('error', () => {
          /* counted by the close */
        });
        s.on('close', () => cut++);
        sockets.push(s);
      }
    }
    await waitFor(() => limited('connections.prefix'), { message: 'relay prefix refusal' });
    const src = makeTempDir('burrow-floods-');
    const dst = makeTempDir('burrow-floods-');
    dirs.push(src, dst);
    writeFileSync(join(src, 'data.bin'), randomBytes(1_000_000));
    const sender = runWormhole(['send', '--hide-progress', '--no-listen', 'data.bin'], { ...cli(), cwd: src });
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', '--no-listen', await sender.code], { ...cli(), cwd: dst });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(await sha256File(join(dst, 'data.bin'))).toBe(await sha256File(join(src, 'data.bin')));
    await waitFor(() => cut === sockets.length, { message: 'every flood socket closed', timeoutMs: 5_000 });
    expect(logs.some((l) => l.event === 'relay.refused-connection' && l.fields['limit'] === 'connections.address')).toBe(true);
    expect(logs.some((l) => l.event === 'relay.handshake-timeout')).toBe(true);
  });

  it('a mixed run leaves usage records and /metrics with every outcome kind', async () => {
    // crowded: a third side tries a claimed nameplate.
    const [a, b, c] = await Promise.all([raw('127.9.5.2'), raw('127.9.5.3'), raw('127.9.5.4')]);
    a.send({ type: 'bind', appid: APPID, side: 'sideaaaa' });
    b.send({ type: 'bind', appid: APPID, side: 'sidebbbb' });
    c.send({ type: 'bind', appid: APPID, side: 'sidecccc' });
    const { nameplate } = await ask(a, { type: 'allocate' }, ['allocated']);
    await ask(a, { type: 'claim', nameplate }, ['claimed']);
    await ask(b, { type: 'claim', nameplate }, ['claimed']);
    expect(await ask(c, { type: 'claim', nameplate }, ['claimed', 'error'])).toMatchObject({ error: 'crowded' });
    for (const s of [a, b]) await ask(s, { type: 'release', nameplate }, ['released']);
    for (const s of [a, b, c]) s.close();
    // scary / errory: a pair closes with that mood; lonely: one side alone.
    const closeWith = async (id: string, moods: string[]): Promise<void> => {
      const sides = await Promise.all(moods.map((_, i) => raw(`127.9.5.${10 + i}`)));
      for (const [i, s] of sides.entries()) {
        s.send({ type: 'bind', appid: APPID, side: `mixed${i}${id}` });
        await ask(s, { type: 'open', mailbox: id }, ['ack']);
      }
      for (const [i, s] of sides.entries()) await ask(s, { type: 'close', mailbox: id, mood: moods[i] }, ['closed']);
      for (const s of sides) s.close();
    };
    await closeWith('mixed-scary', ['happy', 'scary']);
    await closeWith('mixed-errory', ['errory', 'happy']);
    await closeWith('mixed-lonely', ['lonely']);
    const moods = new Set(usage.map((u) => u.mood));
    for (const mood of ['happy', 'lonely', 'pruney', 'crowded', 'scary', 'errory']) expect(moods, mood).toContain(mood);
    // Records carry no codes, sides or bodies: only these keys.
    for (const u of usage) for (const k of Object.keys(u)) expect(['kind', 'app', 'forNameplate', 'started', 'waitingTime', 'totalTime', 'mood']).toContain(k);
    const text = await metrics();
    for (const mood of ['happy', 'lonely', 'pruney', 'crowded', 'scary', 'errory']) expect(text).toMatch(new RegExp(`burrow_wormholes_total\\{kind="\\w+",mood="${mood}"\\} [1-9]`));
    for (const limit of ['stored.address', 'stored.prefix', 'allocations.address', 'allocations.prefix', 'connections.address', 'connections.prefix', 'frames.address']) {
      expect(text).toContain(`burrow_rejections_total{service="mailbox",limit="${limit}"}`);
    }
    expect(text).toContain('burrow_rejections_total{service="relay",limit="handshake-timeout"}');
    expect(text).toMatch(/burrow_relay_pairs_total [1-9]/);
    expect(text).toContain('burrow_store_ok 1');
  });
});
