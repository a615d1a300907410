/**
 * Gateway benchmark, relay half: throughput one way through Debian's transit
 * relay 0.2.1 (TCP↔TCP, the baseline) and Burrow's gateway relay (TCP↔TCP,
 * WS→TCP, TCP→WS), both sides doing `please relay TOKEN for side SIDE\n` and
 * waiting for `ok\n`. See gateway.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
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

/** The fixed, non-zero masking key of the lean client's frames, and CHUNK masked with it once. */
const MASK = Buffer.from([0x5a, 0xc3, 0x96, 0x3c]);
const MASKED_CHUNK = Buffer.from(CHUNK.map((b, i) => b ^ MASK[i & 3]!));

/** A client frame header: binary, FIN, masked with MASK, `n` payload bytes. */
function frameHeader(n: number): Buffer {
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const h = Buffer.alloc(2 + ext + 4);
  h[0] = 0x82;
  h[1] = 0x80 | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(n, 2);
  if (ext === 8) h.writeBigUInt64BE(BigInt(n), 2);
  MASK.copy(h, 2 + ext);
  return h;
}

/**
 * Counts the payload of the relay's frames (server frames: unmasked),
 * skipping their headers without copying; a close, text or bad frame fails.
 */
class FrameCounter {
  #head = Buffer.alloc(0);
  #left = 0;
  #skip = false;

  constructor(private readonly input: RelayInput) {}

  feed(data: Buffer): void {
    let i = 0;
    while (i < data.length) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, data.length - i);
        if (!this.#skip) this.input.feed(data.subarray(i, i + take));
        this.#left -= take;
        i += take;
        continue;
      }
      // Gather the header: 2 bytes, then as many more as they announce.
      const want = (this.#head.length < 2 ? 2 : headerSize(this.#head)) - this.#head.length;
      const take = Math.min(want, data.length - i);
      this.#head = Buffer.concat([this.#head, data.subarray(i, i + take)]);
      i += take;
      const h = this.#head;
      if (h.length < 2 || h.length < headerSize(h)) continue;
      this.#head = Buffer.alloc(0);
      const opcode = h[0]! & 0x0f;
      if (opcode === 0x8) return this.input.fail(new Error('the relay closed the WebSocket'));
      if (opcode === 0x1 || (h[1]! & 0x80) !== 0) return this.input.fail(new Error(`unexpected frame from the relay (opcode ${opcode})`));
      const len7 = h[1]! & 0x7f;
      this.#left = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
      this.#skip = opcode !== 0x2 && opcode !== 0x0; // ping / pong payloads are not data
    }
  }
}

/** A frame header's length, from its first two bytes. */
function headerSize(h: Buffer): number {
  const len7 = h[1]! & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1]! & 0x80 ? 4 : 0);
}

/**
 * A lean WebSocket end: the upgrade by hand on a raw TCP socket, every
 * frame the same pre-masked 256 KiB (the relay still unmasks every byte),
 * the relay's frame headers skipped by a counter. The measuring end stays
 * cheap, so the run measures the relay and not a WebSocket library on the
 * same two cores.
 */
async function wsEnd(url: string, token: string, side: string): Promise<RelayEnd> {
  const u = new URL(url);
  const socket: Socket = await connectTcp(Number(u.port), u.hostname);
  socket.setNoDelay(true);
  const input = new RelayInput();
  const frames = new FrameCounter(input);
  let upgrade: Buffer | undefined = Buffer.alloc(0);
  const upgraded = deferred<void>();
  socket.on('data', (d: Buffer) => {
    if (upgrade) {
      upgrade = Buffer.concat([upgrade, d]);
      const end = upgrade.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = upgrade.subarray(0, upgrade.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.1 101 /.test(status)) return upgraded.reject(new Error(`relay upgrade answered ${status}`));
      d = upgrade.subarray(end + 4);
      upgrade = undefined;
      upgraded.resolve();
    }
    frames.feed(d);
  });
  socket.on('error', (err) => (upgraded.reject(err), input.fail(err)));
  socket.on('close', () => (upgraded.reject(new Error('closed before the upgrade')), input.fail(new Error('relay connection closed'))));
  const key = randomBytes(16).toString('base64');
  socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await withTimeout(upgraded.promise, 5_000, 'relay WebSocket upgrade');
  const hello = Buffer.from(`please relay ${token} for side ${side}\n`, 'latin1');
  socket.write(Buffer.concat([frameHeader(hello.length), Buffer.from(hello.map((b, i) => b ^ MASK[i & 3]!))]));
  const fullHeader = frameHeader(CHUNK.length);
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
            socket.cork();
            socket.write(piece === CHUNK.length ? fullHeader : frameHeader(piece));
            const more = socket.write(piece === CHUNK.length ? MASKED_CHUNK : MASKED_CHUNK.subarray(0, piece));
            socket.uncork();
            if (!more) {
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
