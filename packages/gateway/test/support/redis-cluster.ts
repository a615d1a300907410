/**
 * The rig of the tests that run several gateways on one Redis: a
 * redis-server for the file, and the gateways and raw mailbox clients a
 * test starts, closed after each test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type RedisServer } from '@burrow/testkit';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/index.js';
import { wsMailboxClient, type RawMailboxClient } from './raw-mailbox.js';

export interface RedisCluster {
  /** The file's redis-server URL (started before the first test). */
  readonly url: () => string;
  /** A gateway on the test's Redis under key `prefix` (heartbeat 200 ms), closed after the test. */
  gateway(prefix: string, options?: Partial<GatewayOptions>): Promise<Gateway>;
  /** Close `gw` after the test (one started by other means). */
  adopt(gw: Gateway): Gateway;
  /** A raw mailbox client of `gw`, closed after the test. */
  client(gw: Gateway): Promise<RawMailboxClient>;
}

/** Register the hooks (call at the top of a test file). */
export function redisCluster(): RedisCluster {
  let redis: RedisServer | undefined;
  const open: Gateway[] = [];
  const clients: RawMailboxClient[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(open.splice(0).map((g) => g.close()));
  });
  const url = () => {
    if (!redis) throw new Error('redis-server is not running (redisCluster() hooks not run yet)');
    return redis.url;
  };
  return {
    url,
    gateway: async (prefix, options = {}) => {
      const gw = await startGateway({ port: 0, transitPort: null, redis: { url: url(), prefix, heartbeatMs: 200 }, ...options });
      open.push(gw);
      return gw;
    },
    adopt: (gw) => {
      open.push(gw);
      return gw;
    },
    client: async (gw) => {
      const c = await wsMailboxClient(gw.url);
      clients.push(c);
      return c;
    },
  };
}
