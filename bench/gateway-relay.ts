/**
 * Gateway benchmark, relay half: throughput one way through Debian's transit
 * relay 0.2.1 (TCP↔TCP, the baseline) and Burrow's gateway relay (TCP↔TCP,
 * WS→TCP, TCP→WS), both sides doing `please relay TOKEN for side SIDE\n` and
 * waiting for `ok\n`. See gateway.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { deferred, type Deferred } from '@burrow/protocol';
import { connectTcp, startTransitRelay, withTimeout } from '@burrow/testkit';
import type { GatewayProcess } from './gateway-process.js';
import { randomHex as hex, report, type Sample } from './lib.js';

const DEBIAN_RELAY = 'Debian relay 0.2.1 TCP→TCP';

const CHUNK = randomBytes(256 << 10);
const RELAY_SIDE_TX = hex(8);
const RELAY_SIDE_RX = hex(8);

/** One end of a relay connection, past or waiting for the relay's `ok\n`. */
interface RelayEnd {
  /** Resolves when the relay answered `ok\n` (both sides are in). */
  readonly ready: Promise<void>;
  /** Resolves once `n` bytes after the `ok\n` have arrived. */
  receive(n: number): Promise<void>;
  /** Write `n` bytes in CHUNK-sized pieces, with backpressure. */
  send(n: number): Promise<void>;
  close(): void;
}

/** Counts incoming bytes after checking the relay's answer. */
class RelayInput {
  readonly ready = deferred<void>();
  #head: Buffer | undefined = Buffer.alloc(0);
  #got = 0;
  #want = Infinity;
  #done: Deferred<void> | undefined;
  #failure: Error | undefined;

  feed(data: Buffer): void {
    if (this.#head) {
      this.#head = Buffer.concat([this.#head, data]);
      if (this.#head.length < 3) return;
      const answer = this.#head.subarray(0, 3).toString('latin1');
      if (answer !== 'ok\n') return this.fail(new Error(`relay answered ${JSON.stringify(this.#head.toString('latin1'))}`));
      data = this.#head.subarray(3);
      this.#head = undefined;
      this.ready.resolve();
    }
    this.#got += data.length;
    if (this.#got > this.#want) this.fail(new Error(`received ${this.#got} bytes, expected ${this.#want}`));
    else if (this.#got === this.#want) this.#done?.resolve();
  }

  receive(n: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#want = this.#got + n;
    this.#done = deferred<void>();
    return this.#done.promise;
  }

  fail(err: Error): void {
    this.#failure ??= err;
    this.ready.reject(err);
    this.#done?.reject(err);
  }
}

async function tcpEnd(port: number, token: string, side: string): Promise<RelayEnd> {
  const socket: Socket = await connectTcp(port);
  socket.setNoDelay(true);
  const input = new RelayInput();
  socket.on('data', (d: Buffer) => input.feed(d));
  socket.on('error', (err) => input.fail(err));
  socket.on('close', () => input.fail(new Error('relay connection closed')));
  socket.write(`please relay ${token} for side ${side}\n`);
  return {
    ready: input.ready.promise,
    receive: (n) => input.receive(n),
    send: (n) =>
      new Promise<void>((res) => {
        let sent = 0;
        const pump = (): void => {
          while (sent < n) {
            const piece = Math.min(CHUNK.length, n - sent);
            sent += piece;
            if (!socket.write(piece === CHUNK.length ? CHUNK : CHUNK.subarray(0, piece))) {
              socket.once('drain', pump);
              return;
            }
          }
          res();
        };
        pump();
      }),
    close: () => socket.destroy(),
  };
}

async function wsEnd(url: string, token: string, side: string): Promise<RelayEnd> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => {
      ws.off('error', rej);
      res();
    });
    ws.once('error', rej);
  });
  const input = new RelayInput();
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    if (!isBinary) return input.fail(new Error('text frame from the relay'));
    input.feed(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)); // count, do not copy
  });
  ws.on('error', (err) => input.fail(err));
  ws.on('close', () => input.fail(new Error('relay WebSocket closed')));
  ws.send(Buffer.from(`please relay ${token} for side ${side}\n`, 'latin1'), { binary: true });
  const window = 4 << 20; // bytes handed to ws.send and not yet on the socket
  return {
    ready: input.ready.promise,
    receive: (n) => input.receive(n),
    send: (n) =>
      new Promise<void>((res, rej) => {
        let sent = 0;
        let inflight = 0;
        const pump = (): void => {
          while (sent < n && inflight < window) {
            const piece = Math.min(CHUNK.length, n - sent);
            sent += piece;
            inflight += piece;
            ws.send(piece === CHUNK.length ? CHUNK : CHUNK.subarray(0, piece), { binary: true }, (err) => {
              if (err) return rej(err);
              inflight -= piece;
              if (sent === n && inflight === 0) res();
              else pump();
            });
          }
        };
        pump();
      }),
    close: () => ws.terminate(),
  };
}

type EndFactory = (token: string, side: string) => Promise<RelayEnd>;

/** Move `bytes` from a `tx` end to an `rx` end through a relay; MB/s (10^6), timed from both `ok\n`s to the last byte. */
async function relayRun(tx: EndFactory, rx: EndFactory, bytes: number): Promise<number> {
  const token = hex(32);
  const ends = await Promise.allSettled([tx(token, RELAY_SIDE_TX), rx(token, RELAY_SIDE_RX)]);
  const [a, b] = ends.map((e) => (e.status === 'fulfilled' ? e.value : undefined));
  try {
    for (const e of ends) if (e.status === 'rejected') throw e.reason;
    await withTimeout(Promise.all([a!.ready, b!.ready]), 10_000, 'relay handshake');
    const t0 = performance.now();
    await withTimeout(Promise.all([a!.send(bytes), b!.receive(bytes)]), 120_000, 'relay transfer');
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    a?.close();
    b?.close();
  }
}


/** Measure and report relay throughput (3 of gateway.ts), `relayBytes` per run, against `gw`. */
export async function relayBench(gw: GatewayProcess, relayBytes: number, rounds: number): Promise<void> {
  const relay = await startTransitRelay();
  try {
    const cases: Array<[string, EndFactory, EndFactory]> = [
      [DEBIAN_RELAY, (t, s) => tcpEnd(relay.port, t, s), (t, s) => tcpEnd(relay.port, t, s)],
      ['Burrow TCP→TCP', (t, s) => tcpEnd(gw.transitPort, t, s), (t, s) => tcpEnd(gw.transitPort, t, s)],
      ['Burrow WS→TCP', (t, s) => wsEnd(gw.relayUrl, t, s), (t, s) => tcpEnd(gw.transitPort, t, s)],
      ['Burrow TCP→WS', (t, s) => tcpEnd(gw.transitPort, t, s), (t, s) => wsEnd(gw.relayUrl, t, s)],
    ];
    for (const [, tx, rx] of cases) await relayRun(tx, rx, 16 << 20); // warm-up
    const values = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, tx, rx] of cases) values.get(name)!.push(await relayRun(tx, rx, relayBytes));
    }
    const samples: Sample[] = cases.map(([name]) => ({ name, values: values.get(name)!, unit: 'MB/s' }));
    report(`Relay throughput, ${relayBytes >> 20} MiB one way (256 KiB writes)`, samples, DEBIAN_RELAY, true);
  } finally {
    await relay.stop();
  }
}
