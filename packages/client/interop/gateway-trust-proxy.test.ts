// Client addresses behind a load balancer: `burrow serve --trust-proxy
// 127.0.0.1` behind Debian haproxy sending PROXY protocol v2
// (`send-proxy-v2`, health checks too) on the mailbox port and the TCP
// transit relay. Burrow clients bound to 127.0.0.11…16 complete three
// wormholes through haproxy, and the gateway sees six addresses, not
// haproxy's one: /health and /metrics count them, the per-address limit
// (1 here) refuses a second connection from one client and names that
// client in its log line, not haproxy. A frontend without send-proxy shows
// what happens otherwise: every client is 127.0.0.1 and the second one is
// refused. Relay halves through haproxy are charged to their clients too.
import { bestEffort } from '@burrow/protocol';
import { createWormhole, type WebSocketConstructor, type Wormhole } from '@burrow/client';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, waitFor } from '@burrow/testkit';
import { burrowServe, startHaproxy, type Haproxy, type ServeProcess } from './support/cluster.js';

/** The `ws` class, every connection from `localAddress`. */
function boundWebSocket(localAddress: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  } as unknown as WebSocketConstructor;
}

/** Open a mailbox WebSocket from `from`: 'open', or the HTTP status it was refused with. */
function tryMailbox(port: number, from: string): Promise<{ result: string; ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1`, { localAddress: from });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ result: 'open', ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ result: String(res.statusCode), ws }));
    ws.once('error', (err) => resolve({ result: err.message, ws }));
  });
}

/** The `address` of each `msg` log line of `burrow serve`, once there are `n` (its stderr comes a moment after the refusal). */
async function loggedAddresses(s: ServeProcess, msg: string, n: number): Promise<unknown[]> {
  await waitFor(() => logged(s, msg).length >= n, { message: `${n} ${msg} log lines` });
  return logged(s, msg).map((l) => l['address']);
}

/** Log lines of `burrow serve` with this message. */
function logged(s: ServeProcess, msg: string): Record<string, unknown>[] {
  return s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function health(s: ServeProcess): Promise<{ mailbox: { connections: number; addresses: number }; relay: { addresses: number; pairs: number } }> {
  return (await (await fetch(`http://127.0.0.1:${s.port}/health`)).json()) as never;
}

describe('burrow serve --trust-proxy behind haproxy send-proxy-v2', () => {
  let gw: ServeProcess;
  let lb: Haproxy;

  beforeAll(async () => {
    assertPrivateNetwork();
    gw = await burrowServe(['--trust-proxy', '127.0.0.1', '--limit', 'maxConnectionsPerAddress=1', '--limit', 'relay.maxConnectionsPerAddress=1']);
    lb = await startHaproxy([gw.port], { sendProxy: 'v2', transit: [[gw.transitPort, gw.port]], plain: true });
    // Up = haproxy's health checks (PROXY v2 on the mailbox port, none on the relay's check port) pass.
    await waitFor(async () => (await tryMailbox(lb.port, '127.0.0.9').then(({ result, ws }) => (ws.terminate(), result))) === 'open', { message: 'haproxy marks the gateway up' });
    await waitFor(async () => (await health(gw)).mailbox.connections === 0);
  }, 60_000);
  afterAll(async () => {
    await cleanup();
  });

  it('wormholes from six client addresses complete, and the gateway counts six addresses', async () => {
    const open = (i: number): Promise<Wormhole> =>
      createWormhole({ mailbox: `ws://127.0.0.1:${lb.port}/v1`, WebSocket: boundWebSocket(`127.0.0.${11 + i}`) });
    const sides: Wormhole[] = [];
    try {
      for (let i = 0; i < 6; i += 2) {
        const a = await open(i);
        sides.push(a);
        const code = await a.allocateCode();
        const b = await open(i + 1);
        sides.push(b);
        b.setCode(code);
      }
      await Promise.all(
        [0, 2, 4].map(async (i) => {
          sides[i]!.sendMessage(new TextEncoder().encode(`hello ${i}`));
          expect(new TextDecoder().decode(await sides[i + 1]!.nextMessage())).toBe(`hello ${i}`);
        }),
      );
      const h = await health(gw);
      expect(h.mailbox).toMatchObject({ connections: 6, addresses: 6 });
      const metrics = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
      expect(metrics).toMatch(/^burrow_mailbox_addresses 6$/m);

      // One connection per address: a second one from 127.0.0.11 is refused, and the log names 127.0.0.11.
      const second = await tryMailbox(lb.port, '127.0.0.11');
      expect(second.result).toBe('503');
      expect(await loggedAddresses(gw, 'mailbox.refused-connection', 1)).toEqual(['127.0.0.11']);
      // Without a PROXY header every client is haproxy: 127.0.0.21 gets in, 127.0.0.22 is refused as 127.0.0.1.
      const plainA = await tryMailbox(lb.plainPort!, '127.0.0.21');
      const plainB = await tryMailbox(lb.plainPort!, '127.0.0.22');
      expect([plainA.result, plainB.result]).toEqual(['open', '503']);
      expect(await loggedAddresses(gw, 'mailbox.refused-connection', 2)).toEqual(['127.0.0.11', '127.0.0.1']);
      plainA.ws.terminate();
      // haproxy's health checks (PROXY v2 LOCAL on the mailbox port) never tripped the parser.
      expect(logged(gw, 'proxy.bad-header')).toEqual([]);
    } finally {
      await Promise.all(sides.map((w) => w.close().catch(bestEffort)));
    }
  }, 60_000);

  it('relay halves through haproxy are charged to their clients', async () => {
    const token = randomBytes(32).toString('hex');
    const half = (from: string, side: string) =>
      new Promise<{ text: string; close: () => void }>((resolve) => {
        const socket = connect({ port: lb.transitPort!, host: '127.0.0.1', localAddress: from });
        let text = '';
        socket.on('error', () => {
          /* a refusal is a close: what arrived is asserted */
        });
        socket.once('connect', () => socket.write(`please relay ${token} for side ${side}\n`));
        socket.on('data', (d: Buffer) => {
          text += d.toString();
          if (text === 'ok\n') resolve({ text, close: () => socket.destroy() });
        });
        socket.on('close', () => resolve({ text, close: () => undefined }));
      });
    const [a, b] = await Promise.all([half('127.0.0.31', 'a'.repeat(16)), half('127.0.0.32', 'b'.repeat(16))]);
    expect([a.text, b.text]).toEqual(['ok\n', 'ok\n']);
    expect((await health(gw)).relay).toMatchObject({ pairs: 1, addresses: 2 });
    // relay.maxConnectionsPerAddress=1: a third half from 127.0.0.31 is cut, by its own address.
    const third = await half('127.0.0.31', 'c'.repeat(16));
    expect(third.text).toBe('');
    expect(await loggedAddresses(gw, 'relay.refused-connection', 1)).toEqual(['127.0.0.31']);
    a.close();
    b.close();
  }, 30_000);
});
