/**
 * Gateway benchmarks: Burrow's mailbox server + transit relay (startGateway,
 * run in its own Node process so its CPU and RSS are its own) against
 * Debian's mailbox server 0.4.1 and transit relay 0.2.1, side by side:
 *
 *  1. Wormholes completed per second: a protocol-level load generator (raw
 *     `ws` clients, no crypto) runs PAIRS wormholes at once, each one two
 *     fresh connections doing what two CLIs exchanging a text do: bind,
 *     allocate/claim, open, pake + version + one message each way (bodies of
 *     the real sizes), release, close. Alternating timed rounds per server.
 *     Also the server's CPU time per wormhole (from /proc/PID/stat), since the
 *     load generator shares the (small) machine with the server.
 *  2. Memory per idle bound connection: on fresh servers, rounds of IDLE
 *     connections that `bind` and then idle (all kept open); the server
 *     process's VmRSS delta per connection (Burrow garbage-collected first).
 *  3. Relay throughput, RELAY_MB MiB one way in 256 KiB writes, both sides
 *     doing `please relay TOKEN for side SIDE\n` and waiting for `ok\n`:
 *     Debian TCP↔TCP (baseline) against Burrow TCP↔TCP, WS→TCP and TCP→WS.
 *
 * The Debian server keeps its state in its SQLite channel database on disk
 * (its normal set-up, in the testkit's temp dir); the gateway in memory by
 * default, so 1 also runs a second gateway with `dataDir` (SQLite on disk)
 * and clusters of 1, 2 and 3 gateway processes sharing one redis-server
 * (`redis`, docs-site/guide/scaling.md; each wormhole's two sides on two
 * different processes; CPU time includes redis-server). The gateway runs
 * with all its limits at their defaults (fair shares per address and
 * prefix, frame rate, expiry): each client connection comes from its own
 * loopback address in its own /24 (127.64.0.1, 127.64.1.1, …), as real
 * clients come from many hosts.
 *
 * Env: BURROW_BENCH_GW_PAIRS (20), BURROW_BENCH_GW_SECONDS (3 per round),
 * BURROW_BENCH_GW_IDLE (500 per round), BURROW_BENCH_RELAY_MB (256),
 * BURROW_BENCH_GW_ONLY=relay (skip 1 and 2), BURROW_BENCH_GW_REDIS=0 (no
 * Redis clusters in 1).
 *
 * gateway-process.ts runs the gateway in its own process; gateway-mailbox.ts
 * measures 1 and 2, gateway-relay.ts measures 3.
 */
import type { GatewayOptions } from '@burrow/gateway';
import { mailboxBench } from './gateway-mailbox.js';
import { startGatewayProcess } from './gateway-process.js';
import { relayBench } from './gateway-relay.js';
import { envNumber } from './lib.js';

/** `pnpm bench gateway`: 1 and 2 (unless BURROW_BENCH_GW_ONLY=relay), then 3. */
export async function gatewayBench(): Promise<void> {
  const pairs = envNumber('BURROW_BENCH_GW_PAIRS', 20);
  const seconds = envNumber('BURROW_BENCH_GW_SECONDS', 3);
  const idle = envNumber('BURROW_BENCH_GW_IDLE', 500);
  const relayBytes = envNumber('BURROW_BENCH_RELAY_MB', 256) * (1 << 20);
  const rounds = 3;

  // Mailbox limits at their defaults; the relay's throughput runs come from 127.0.0.1.
  const options: GatewayOptions = {
    port: 0,
    transitPort: 0,
    relayLimits: { maxConnectionsPerAddress: 10_000 },
  };
  const gw = await startGatewayProcess(options);
  try {
    if (process.env['BURROW_BENCH_GW_ONLY'] !== 'relay') await mailboxBench(gw, options, { pairs, seconds, idle, rounds });
    await relayBench(gw, relayBytes, rounds);
  } finally {
    await gw.stop();
  }
}
