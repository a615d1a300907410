/**
 * Gateway benchmark, Redis clusters: one redis-server and, per cluster,
 * N gateway processes sharing it (each cluster its own key prefix, so its own
 * log). The load generator in gateway-mailbox.ts puts the two sides of each
 * wormhole on different processes. CPU time counts redis-server too.
 */
import { startRedis } from '@burrow/testkit';
import type { GatewayOptions } from '@burrow/gateway';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

export interface RedisCluster {
  readonly urls: string[];
  /** The gateway processes and redis-server. */
  readonly pids: number[];
}

export interface RedisClusters {
  /** Start `n` gateway processes on a fresh log of the shared redis-server. */
  cluster(n: number): Promise<RedisCluster>;
  stop(): Promise<void>;
}

export async function startRedisClusters(options: GatewayOptions): Promise<RedisClusters> {
  const redis = await startRedis();
  const started: GatewayProcess[] = [];
  let clusters = 0;
  return {
    async cluster(n) {
      const prefix = `bench${++clusters}`;
      const gws: GatewayProcess[] = [];
      for (let i = 0; i < n; i++) {
        const gw = await startGatewayProcess({ ...options, transitPort: null, redis: { url: redis.url, prefix } });
        started.push(gw);
        gws.push(gw);
      }
      return { urls: gws.map((g) => g.url), pids: [...gws.map((g) => g.pid), redis.pid] };
    },
    async stop() {
      await Promise.all(started.map((g) => g.stop()));
      await redis.stop();
    },
  };
}
