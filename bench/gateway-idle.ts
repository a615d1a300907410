/**
 * `pnpm bench gateway-idle`: many idle mailbox connections across a Redis
 * cluster of gateway processes on this machine, while a fresh wormhole
 * completes.
 *
 * Three gateway processes share one redis-server (`redis`, guide/scaling).
 * Each is started under `ulimit -n <hard limit>` (as an operator raises
 * the limit for many sockets; Node would raise its soft limit to the hard
 * one anyway — the table says what the processes got). CONNECTIONS raw `ws`
 * clients (default 10,000), each from its own loopback address in its own
 * /24 so every default per-address limit holds, connect round robin, `bind`
 * and idle. Reported: the time to open them, each process's VmRSS growth
 * per connection it holds (after a full GC, against its RSS after a
 * warm-up), redis-server's growth, and a fresh wormhole (Burrow client on
 * process 1 ↔ Burrow client on process 3: code, key, one message each way,
 * close) timed before and while the connections are held.
 *
 * Env: BURROW_BENCH_IDLE_CONNECTIONS (10000), BURROW_BENCH_IDLE_PROCESSES (3).
 */
import { readFileSync } from 'node:fs';
import { createWormhole, type WebSocketConstructor } from '@burrow/client';
import { NodeWebSocket } from '@burrow/client/node';
import { startRedis } from '@burrow/testkit';
import { openIdle } from './gateway-mailbox.js';
import { rssBytes, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { envNumber, median, timeRuns } from './lib.js';

type IdleClient = Parameters<typeof openIdle>[2][number];

/** The soft open-files limit of a process. */
function openFilesLimit(pid: number): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return line?.split(/\s{2,}/)[1] ?? '?';
}

/** Two Burrow clients on two processes: code, key, one message each way, close. */
async function wormhole(urlA: string, urlB: string): Promise<void> {
  const open = (mailbox: string) => createWormhole({ mailbox, WebSocket: NodeWebSocket as unknown as WebSocketConstructor });
  const a = await open(urlA);
  const b = await open(urlB);
  try {
    b.setCode(await a.allocateCode());
    a.sendMessage(new Uint8Array([1]));
    await b.nextMessage();
    b.sendMessage(new Uint8Array([2]));
    await a.nextMessage();
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const MiB = 1 << 20;
const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

export async function gatewayIdleBench(): Promise<void> {
  const total = envNumber('BURROW_BENCH_IDLE_CONNECTIONS', 10_000);
  const n = envNumber('BURROW_BENCH_IDLE_PROCESSES', 3);
  const redis = await startRedis();
  const gws: GatewayProcess[] = [];
  const held: IdleClient[] = [];
  try {
    for (let i = 0; i < n; i++) {
      gws.push(await startGatewayProcess({ port: 0, transitPort: null, redis: { url: redis.url, prefix: 'idle' } }, { fileLimit: 'hard' }));
    }
    const first = gws[0]!.url;
    const last = gws[n - 1]!.url;
    // Warm-up: code paths loaded, a few connections opened and closed, then a baseline.
    const warm: IdleClient[] = [];
    await Promise.all(gws.map((g) => openIdle(g.url, 100, warm)));
    for (const c of warm) c.terminate();
    const before = await timeRuns(3, () => wormhole(first, last));
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all(gws.map((g) => g.gc()));
    const rss0 = gws.map((g) => rssBytes(g.pid));
    const redis0 = rssBytes(redis.pid);

    const share = gws.map((_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
    const t0 = performance.now();
    await Promise.all(gws.map((g, i) => openIdle(g.url, share[i]!, held)));
    const openMs = performance.now() - t0;
    const during = await timeRuns(3, () => wormhole(first, last), 0);
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all(gws.map((g) => g.gc()));
    const rss1 = gws.map((g) => rssBytes(g.pid));
    const redis1 = rssBytes(redis.pid);

    console.log(`\n## Gateway: ${held.length} idle bound mailbox connections across ${n} processes on one redis-server (loaded 2-core machine)`);
    console.log(`opened in ${(openMs / 1000).toFixed(1)} s (${Math.round(held.length / (openMs / 1000))}/s, each connect + bind appended to the shared log)`);
    console.log('| process | open-files limit | connections | RSS before → after (MiB) | RSS per connection (KiB) |');
    console.log('|---|---|---|---|---|');
    gws.forEach((g, i) => {
      console.log(`| gateway ${i + 1} | ${openFilesLimit(g.pid)} | ${share[i]} | ${(rss0[i]! / MiB).toFixed(0)} → ${(rss1[i]! / MiB).toFixed(0)} | ${kib((rss1[i]! - rss0[i]!) / share[i]!)} |`);
    });
    console.log(`| redis-server | ${openFilesLimit(redis.pid)} | ${held.length} (log entries ×2) | ${(redis0 / MiB).toFixed(0)} → ${(redis1 / MiB).toFixed(0)} | ${kib((redis1 - redis0) / held.length)} |`);
    const b = median(before);
    const d = median(during);
    console.log(`fresh wormhole (process 1 ↔ process ${n}): ${b.toFixed(0)} ms idle cluster → ${d.toFixed(0)} ms with the connections held (median of 3; ${(d / b).toFixed(2)}×)`);
  } finally {
    for (const c of held) c.terminate();
    await Promise.all(gws.map((g) => g.stop()));
    await redis.stop();
  }
}
