// The gateway's relay over real sockets on loopback: a WebSocket client and a
// TCP client meet by token, bytes pass unchanged both ways, a reader that
// stops makes the relay pause the writer instead of buffering without bound,
// and unmatched tokens time out.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '@burrow/testkit';
import { startGateway, type Gateway, type GatewayOptions } from '../src/index.js';

const open: Gateway[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway({ port: 0, transitPort: 0, ...options });
  open.push(gw);
  return gw;
}

const line = (token: string, side: string): string => `please relay ${token} for side ${side}\n`;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A byte-stream view of a TCP or WS relay client. */
interface Client {
  received(): Buffer;
  send(data: Uint8Array | string): void;
  closed: Promise<void>;
  pause(): void;
  resume(): void;
  close(): void;
}

async function tcpClient(gw: Gateway): Promise<Client> {
  const socket: Socket = connect(gw.transitPort!, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    received: () => Buffer.concat(chunks),
    send: (d) => void socket.write(d),
    closed,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.end(),
  };
}

async function wsClient(gw: Gateway): Promise<Client & { ws: WebSocket }> {
  const ws = new WebSocket(gw.relayUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const chunks: Buffer[] = [];
  ws.on('message', (d: Buffer) => chunks.push(d));
  ws.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  return {
    ws,
    received: () => Buffer.concat(chunks),
    send: (d) => ws.send(typeof d === 'string' ? Buffer.from(d) : d),
    closed,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(),
  };
}

describe('gateway relay', () => {
  it('glues a WebSocket client to a TCP client and passes 8 MB each way unchanged', async () => {
    const gw = await gateway();
    const token = randomBytes(32).toString('hex');
    const browser = await wsClient(gw);
    const native = await tcpClient(gw);
    browser.send(line(token, '0000000000000001'));
    native.send(line(token, '0000000000000002'));
    await waitFor(() => browser.received().toString() === 'ok\n' && native.received().toString() === 'ok\n', { message: 'ok on both' });

    const up = randomBytes(8 << 20);
    const down = randomBytes(8 << 20);
    for (let i = 0; i < up.length; i += 64 << 10) browser.send(up.subarray(i, i + (64 << 10)));
    native.send(down);
    await waitFor(() => native.received().length === 3 + up.length && browser.received().length === 3 + down.length, { message: 'all bytes', timeoutMs: 30_000 });
    expect(sha(native.received().subarray(3))).toBe(sha(up));
    expect(sha(browser.received().subarray(3))).toBe(sha(down));
    expect(gw.stats().relay).toMatchObject({ pairs: 1, bytes: up.length + down.length });

    browser.close();
    await native.closed;
    await waitFor(() => gw.stats().relay.connections === 0, { message: 'relay empty' });
  });

  it('pauses the writer when the reader stops, without buffering the whole stream', async () => {
    const gw = await gateway({ relayLimits: { highWaterMark: 256 << 10, lowWaterMark: 64 << 10 } });
    const token = randomBytes(32).toString('hex');
    const writer = await wsClient(gw);
    const reader = await tcpClient(gw);
    writer.send(line(token, 'aaaaaaaaaaaaaaaa'));
    reader.send(line(token, 'bbbbbbbbbbbbbbbb'));
    await waitFor(() => writer.received().length === 3 && reader.received().length === 3, { message: 'ok' });
    reader.pause();
    const total = 64 << 20;
    const chunk = randomBytes(256 << 10);
    let sent = 0;
    // Write whenever the WebSocket's own buffer is small, like a browser
    // honouring bufferedAmount: once the relay stops reading us, it stays full.
    const pump = setInterval(() => {
      while (sent < total && writer.ws.bufferedAmount < 1 << 20) {
        writer.send(chunk);
        sent += chunk.length;
      }
    }, 1);
    try {
      let stuckPolls = 0;
      let lastSent = -1;
      // Held back = the pump has sent nothing new for 30 polls 10 ms apart.
      await waitFor(
        () => {
          stuckPolls = sent === lastSent ? stuckPolls + 1 : 0;
          lastSent = sent;
          return stuckPolls >= 30;
        },
        { message: 'the writer to be held back', timeoutMs: 20_000, intervalMs: 10 },
      );
      // Kernel buffers on both hops hold a few MB; the relay held the rest back.
      expect(sent).toBeLessThan(total / 2);
      expect(gw.stats().relay.bytes).toBeLessThan(24 << 20);
      reader.resume();
      await waitFor(() => reader.received().length === 3 + total, { message: 'everything after resuming', timeoutMs: 30_000 });
    } finally {
      clearInterval(pump);
    }
    writer.close();
    await reader.closed;
  });

  it('a reader that stops does not slow down another pair', async () => {
    const gw = await gateway({ relayLimits: { highWaterMark: 256 << 10, lowWaterMark: 64 << 10 } });
    const stuckToken = randomBytes(32).toString('hex');
    const stuckWriter = await tcpClient(gw);
    const stuckReader = await tcpClient(gw);
    stuckWriter.send(line(stuckToken, 'aaaaaaaaaaaaaaaa'));
    stuckReader.send(line(stuckToken, 'bbbbbbbbbbbbbbbb'));
    await waitFor(() => stuckReader.received().length === 3, { message: 'ok' });
    stuckReader.pause();
    stuckWriter.send(randomBytes(16 << 20));

    const token = randomBytes(32).toString('hex');
    const a = await wsClient(gw);
    const b = await tcpClient(gw);
    a.send(line(token, 'cccccccccccccccc'));
    b.send(line(token, 'dddddddddddddddd'));
    await waitFor(() => b.received().length === 3, { message: 'ok' });
    const data = randomBytes(4 << 20);
    const t0 = performance.now();
    for (let i = 0; i < data.length; i += 64 << 10) a.send(data.subarray(i, i + (64 << 10)));
    await waitFor(() => b.received().length === 3 + data.length, { message: 'the other pair', timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    for (const c of [stuckWriter, stuckReader, a, b]) c.close();
  });

  it('times out a token nobody matches, and a connection that never says anything', async () => {
    const infos: string[] = [];
    const gw = await gateway({ relayLimits: { lonelyTimeoutMs: 300, handshakeTimeoutMs: 300 }, logger: { info: (e) => infos.push(e) } });
    const lonely = await wsClient(gw);
    lonely.send(line(randomBytes(32).toString('hex'), 'aaaaaaaaaaaaaaaa'));
    const silent = await tcpClient(gw);
    await Promise.all([lonely.closed, silent.closed]);
    expect(lonely.received().length).toBe(0);
    expect(infos).toEqual(expect.arrayContaining(['relay.lonely-timeout', 'relay.handshake-timeout']));
    await waitFor(() => gw.stats().relay.connections === 0, { message: 'relay empty' });
    expect(gw.stats().relay).toMatchObject({ waiting: 0, tokens: 0 });
  });

  it('answers a bad line and impatience, and refuses text frames on /relay', async () => {
    const gw = await gateway();
    const bad = await tcpClient(gw);
    bad.send('GET / HTTP/1.1\r\n\r\n');
    await bad.closed;
    expect(bad.received().toString()).toBe('bad handshake\n');
    const early = await wsClient(gw);
    early.send(`${line('ab'.repeat(32), 'aaaaaaaaaaaaaaaa')}transit sender`);
    await early.closed;
    expect(early.received().toString()).toBe('impatient\n');
    const text = await wsClient(gw);
    const code = new Promise<number>((resolve) => text.ws.on('close', (c) => resolve(c)));
    text.ws.send('please relay as text');
    expect(await code).toBe(1003);
    await waitFor(() => gw.stats().relay.connections === 0, { message: 'relay empty' });
  });
});
