// Failover: three `burrow serve --store redis://` processes behind Debian
// haproxy (TCP, round robin, health check on GET /health), 20 live wormholes
// between Burrow clients that know only haproxy's address. Once every pair
// has agreed its key and exchanged a message, one process is killed with
// SIGKILL, between messages. The clients it served lose their connection,
// reconnect with backoff through haproxy, land on a live process (same
// side: bind, claim, open again), and every wormhole completes: each pair
// exchanges three more application messages each way, none lost, none out
// of order, and closes.
import { bestEffort } from '@burrow/protocol';
import { createWormhole, type WebSocketConstructor, type Wormhole } from '@burrow/client';
import { NodeWebSocket } from '@burrow/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, startRedis, waitFor, type RedisServer } from '@burrow/testkit';
import { burrowServe, startHaproxy, type Haproxy, type ServeProcess } from './support/cluster.js';

const PAIRS = 20;
const AFTER = 3;

/** One application message each way, in order. */
async function exchange(a: Wormhole, b: Wormhole, label: string): Promise<void> {
  a.sendMessage(text.encode(`a ${label}`));
  expect(decode(await b.nextMessage())).toBe(`a ${label}`);
  b.sendMessage(text.encode(`b ${label}`));
  expect(decode(await a.nextMessage())).toBe(`b ${label}`);
}
const text = new TextEncoder();
const decode = (m: Uint8Array): string => new TextDecoder().decode(m);

interface MailboxCounts {
  connections: number;
  nameplates: number;
  mailboxes: number;
}

async function mailboxHealth(s: ServeProcess): Promise<MailboxCounts> {
  const res = await fetch(`http://127.0.0.1:${s.port}/health`);
  return ((await res.json()) as { mailbox: MailboxCounts }).mailbox;
}

const connections = async (s: ServeProcess): Promise<number> => (await mailboxHealth(s)).connections;

describe('failover: three burrow serve behind haproxy, one killed mid-wormhole', () => {
  let redis: RedisServer;
  let gateways: ServeProcess[];
  let lb: Haproxy;

  beforeAll(async () => {
    assertPrivateNetwork();
    redis = await startRedis();
    gateways = await Promise.all([0, 1, 2].map(() => burrowServe(['--store', redis.url])));
    lb = await startHaproxy(gateways.map((g) => g.port));
  }, 60_000);
  afterAll(async () => {
    await cleanup();
  });

  it(`all ${PAIRS} wormholes complete, nothing lost`, async () => {
    let reconnects = 0;
    const logger = {
      info(event: string) {
        if (event.startsWith('mailbox connection lost')) reconnects++;
      },
    };
    const open = (): Promise<Wormhole> =>
      createWormhole({
        mailbox: `ws://127.0.0.1:${lb.port}/v1`,
        WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
        reconnect: { initialMs: 200, maxMs: 2_000, factor: 1.5 },
        logger,
      });
    const pairs: [Wormhole, Wormhole][] = [];
    try {
      // Codes exchanged, keys agreed, one message each way.
      for (let i = 0; i < PAIRS; i++) {
        const a = await open();
        const code = await a.allocateCode();
        const b = await open();
        pairs.push([a, b]);
        b.setCode(code);
      }
      await Promise.all(
        pairs.map(async ([a, b], i) => exchange(a, b, `${i}/0`)),
      );

      // Kill the process serving the most clients (round robin spreads 40 over 3).
      const counts = await Promise.all(gateways.map(connections));
      const victim = counts.indexOf(Math.max(...counts));
      expect(counts[victim]).toBeGreaterThan(0);
      gateways[victim]!.child.kill('SIGKILL');
      await gateways[victim]!.exited;

      await Promise.all(
        pairs.map(async ([a, b], i) => {
          for (let k = 1; k <= AFTER; k++) await exchange(a, b, `${i}/${k}`);
          await Promise.all([a.close(), b.close()]);
        }),
      );
      // Every client the dead process served came back through another one.
      expect(reconnects).toBeGreaterThanOrEqual(counts[victim]!);
      const live = gateways.filter((_, i) => i !== victim);
      // Closed everywhere: no client, nameplate or mailbox left on the live processes.
      await waitFor(async () => (await Promise.all(live.map(mailboxHealth))).every((h) => h.connections + h.nameplates + h.mailboxes === 0), {
        message: 'every client, nameplate and mailbox gone from the live processes',
      });
    } finally {
      for (const [a, b] of pairs) {
        // Decision: a failing close must not hide the test's own failure.
        await Promise.all([a.close().catch(bestEffort), b.close().catch(bestEffort)]);
      }
    }
  }, 90_000);
});
