// Relay pairs across gateways on one Redis (relay/shared.ts): two halves of
// one transit that reach different gateways meet through the one that
// claimed the token first; bytes pass unchanged both ways; a claim is
// dropped when its half leaves; a claim held by an unreachable process is
// taken over.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, waitFor, type RedisServer } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';

let redis: RedisServer;
let admin: Redis;
const open: Gateway[] = [];
const sockets: Socket[] = [];
let cluster = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((g) => g.close()));
});

async function pair(): Promise<{ a: Gateway; b: Gateway; prefix: string }> {
  const prefix = `relay${++cluster}`;
  const start = (): Promise<Gateway> => startGateway({ port: 0, transitPort: 0, redis: { url: redis.url, prefix, heartbeatMs: 200 } });
  const [a, b] = await Promise.all([start(), start()]);
  open.push(a, b);
  return { a, b, prefix };
}

const line = (token: string, side: string): string => `please relay ${token} for side ${side}\n`;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Half {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
}

async function half(gw: Gateway, hello: string): Promise<Half> {
  const socket = connect(gw.transitPort!, '127.0.0.1');
  sockets.push(socket);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {
    /* a reset is an outcome the tests assert on through `closed` */
  });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.write(hello);
  return { socket, received: () => Buffer.concat(chunks), closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

const claimed = (prefix: string, token: string): Promise<string | null> => admin.get(`${prefix}:relay:token:${token}`);

describe('relay pairs across gateways', () => {
  it('halves on two gateways meet through the first one; 2 MB pass each way unchanged', async () => {
    const { a, b, prefix } = await pair();
    const token = randomBytes(32).toString('hex');
    const first = await half(a, line(token, 'a'.repeat(16)));
    await waitFor(async () => (await claimed(prefix, token)) !== null, { message: 'the token claimed by gateway a' });
    const second = await half(b, line(token, 'b'.repeat(16)));
    await waitFor(() => first.received().toString() === 'ok\n' && second.received().toString() === 'ok\n', { message: 'both halves answered ok' });
    expect(b.stats().relay).toMatchObject({ forwardedOut: 1, forwardedIn: 0 });
    expect(a.stats().relay).toMatchObject({ forwardedOut: 0, forwardedIn: 1 });
    // The same counts in /metrics.
    expect(b.metrics()).toMatch(/^burrow_relay_forwarded_out_total 1$/m);
    expect(a.metrics()).toMatch(/^burrow_relay_forwarded_in_total 1$/m);
    const up = randomBytes(2_000_000);
    const down = randomBytes(2_000_000);
    first.socket.write(up);
    second.socket.write(down);
    await waitFor(() => first.received().length === 3 + down.length && second.received().length === 3 + up.length, { message: 'all bytes relayed', timeoutMs: 20_000 });
    expect(sha(second.received().subarray(3))).toBe(sha(up));
    expect(sha(first.received().subarray(3))).toBe(sha(down));
    // The pair met: the claim is gone. One side leaving closes the other, across the pipe.
    expect(await claimed(prefix, token)).toBeNull();
    first.socket.end();
    await second.closed;
    await waitFor(() => a.stats().relay.connections === 0 && b.stats().relay.connections === 0, { message: 'every connection closed' });
  });

  it('halves arriving at once on two gateways meet', async () => {
    const { a, b } = await pair();
    for (let i = 0; i < 5; i++) {
      const token = randomBytes(32).toString('hex');
      const [x, y] = await Promise.all([half(a, line(token, 'a'.repeat(16))), half(b, line(token, 'b'.repeat(16)))]);
      await waitFor(() => x.received().toString() === 'ok\n' && y.received().toString() === 'ok\n', { message: `pair ${i} met` });
    }
    expect(a.stats().relay.forwardedOut + b.stats().relay.forwardedOut).toBe(5);
  });

  it('a browser half (WebSocket) on one gateway meets a native half (TCP) on another', async () => {
    const { a, b, prefix } = await pair();
    const token = randomBytes(32).toString('hex');
    const ws = new WebSocket(a.relayUrl);
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(Buffer.from(line(token, 'a'.repeat(16))));
    await waitFor(async () => (await claimed(prefix, token)) !== null, { message: 'claimed by a' });
    const native = await half(b, line(token, 'b'.repeat(16)));
    await waitFor(() => Buffer.concat(got).toString() === 'ok\n' && native.received().toString() === 'ok\n', { message: 'both answered ok' });
    ws.send(Buffer.from('from the page'));
    native.socket.write('from the CLI');
    await waitFor(() => native.received().toString() === 'ok\nfrom the page' && Buffer.concat(got).toString() === 'ok\nfrom the CLI', { message: 'bytes both ways' });
    ws.close();
    await native.closed;
  });

  it('a half that leaves drops its claim; the next half on another gateway then waits there', async () => {
    const { a, b, prefix } = await pair();
    const token = randomBytes(32).toString('hex');
    const first = await half(a, line(token, 'a'.repeat(16)));
    await waitFor(async () => (await claimed(prefix, token)) !== null, { message: 'claimed' });
    first.socket.destroy();
    await waitFor(async () => (await claimed(prefix, token)) === null, { message: 'claim dropped' });
    const second = await half(b, line(token, 'b'.repeat(16)));
    await waitFor(async () => (await claimed(prefix, token)) !== null, { message: 'claimed by b' });
    expect(b.stats().relay).toMatchObject({ waiting: 1, forwardedOut: 0 });
    const third = await half(b, line(token, 'c'.repeat(16)));
    await waitFor(() => second.received().toString() === 'ok\n' && third.received().toString() === 'ok\n', { message: 'paired on b' });
  });

  it('a claim held by an unreachable process is taken over', async () => {
    const { a, b, prefix } = await pair();
    const token = randomBytes(32).toString('hex');
    const dead = `127.0.0.1:${await freePort()}`;
    await admin.set(`${prefix}:relay:token:${token}`, dead, 'PX', 60_000);
    const first = await half(a, line(token, 'a'.repeat(16)));
    await waitFor(async () => ![dead, null].includes(await claimed(prefix, token)) && a.stats().relay.waiting === 1, {
      message: 'a took the claim over',
    });
    const second = await half(b, line(token, 'b'.repeat(16)));
    await waitFor(() => first.received().toString() === 'ok\n' && second.received().toString() === 'ok\n', { message: 'met on a' });
    expect(b.stats().relay.forwardedOut).toBe(1);
  });

  it('the peer listener refuses a dialer without the cluster secret', async () => {
    const { a, prefix } = await pair();
    const token = randomBytes(32).toString('hex');
    const first = await half(a, line(token, 'a'.repeat(16)));
    await waitFor(async () => (await claimed(prefix, token)) !== null, { message: 'claimed' });
    const owner = (await claimed(prefix, token))!;
    const i = owner.lastIndexOf(':');
    const spoof = connect(Number(owner.slice(i + 1)), owner.slice(0, i));
    sockets.push(spoof);
    spoof.on('error', () => {
      /* the refusal is asserted through close */
    });
    spoof.write(`burrow-relay-forward wrong 10.1.2.3\n${line(token, 'b'.repeat(16))}`);
    await new Promise<void>((resolve) => spoof.once('close', () => resolve()));
    expect(first.received().length).toBe(0);
    expect(a.stats().relay).toMatchObject({ waiting: 1, forwardedIn: 0 });
  });
});
