/**
 * Debian's `redis-server` on a loopback port, without persistence, for the
 * gateway's shared store (`--store redis://…`).
 *
 *   const redis = await startRedis();
 *   startGateway({ redis: { url: redis.url } });
 *   await redis.stop();
 */
import type { ChildProcess } from 'node:child_process';
import { freePort, connectTcp } from './net.js';
import { onCleanup, spawnTracked, terminate, waitFor } from './process.js';

export interface RedisServer {
  /** `redis://127.0.0.1:P` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** What the server printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Start `redis-server` (/usr/bin/redis-server; scripts/debian-packages.sh installs it) on a free loopback port. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawnTracked('redis-server', ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-8_000)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-8_000)));
  const stop = async (): Promise<void> => {
    unregister();
    await terminate(child, 2_000);
  };
  const unregister = onCleanup(stop);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}:\n${output}`);
      const socket = await connectTcp(port).catch(() => undefined);
      socket?.destroy();
      return socket !== undefined;
    },
    { message: `redis-server listening on ${port}`, timeoutMs: 10_000, fatal: (err) => String(err).includes('redis-server exited') },
  );
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid!, log: () => output, stop };
}
