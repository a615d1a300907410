// The WebTransport mailbox transport against a fake WebTransport: the
// length-prefixed parser (any chunking, bounds checked before buffering),
// split writes, URL mapping, clean close, and every failure reported once
// through `closed`.
import { observed } from '@burrow/protocol';
import { describe, expect, it } from 'vitest';
import { LengthPrefixedParser, WormholeError, concatBytes, encodeLengthPrefixed } from '@burrow/protocol';
import { waitFor } from '@burrow/testkit';
import {
  DEFAULT_MAX_FRAME_BYTES,
  MAX_WEBTRANSPORT_WRITE,
  webTransportTransport,
  type WebTransportBidiStreamLike,
  type WebTransportInit,
  type WebTransportLike,
} from '../src/transports/webtransport.js';
import type { FrameHandlers } from '../src/transports/types.js';

const utf8 = new TextEncoder();
const frame = (text: string): Uint8Array => encodeLengthPrefixed(utf8.encode(text));
const concat = concatBytes;

/**
 * Let everything already set off run to the end. The fake session is in
 * memory: what a stream error or a refusal sets off runs in promise jobs,
 * and every one of them runs before the next macrotask. (Not a sleep: no
 * timer is involved.)
 */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A WebTransport whose server side the test drives. */
class FakeWebTransport implements WebTransportLike {
  static last: FakeWebTransport | undefined;
  readonly url: string;
  readonly init: WebTransportInit | undefined;
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  /** Each write the client made, as handed to the stream. */
  readonly writes: Uint8Array[] = [];
  writableClosed = false;
  closeCalls: unknown[] = [];
  /** Make the stream's writes fail. */
  failWrites: unknown;
  #toClient!: ReadableStreamDefaultController<Uint8Array>;
  #resolveReady!: (v?: unknown) => void;
  #rejectReady!: (e: unknown) => void;
  #resolveClosed!: (v?: unknown) => void;
  #rejectClosed!: (e: unknown) => void;

  constructor(url: string, init?: WebTransportInit) {
    this.url = url;
    this.init = init;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.ready.catch(observed);
    this.closed.catch(observed);
    FakeWebTransport.last = this;
  }

  async createBidirectionalStream(): Promise<WebTransportBidiStreamLike> {
    const readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#toClient = controller;
      },
    });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.failWrites) throw this.failWrites;
        this.writes.push(chunk.slice());
      },
      close: () => {
        this.writableClosed = true;
      },
    });
    return { readable, writable };
  }

  close(info?: unknown): void {
    this.closeCalls.push(info);
    this.#resolveClosed({ closeCode: 0, reason: '' });
  }

  // Server side.
  accept(): void {
    this.#resolveReady();
  }
  refuse(error: unknown): void {
    this.#rejectReady(error);
    this.#rejectClosed(error);
  }
  push(bytes: Uint8Array): void {
    this.#toClient.enqueue(bytes);
  }
  endStream(): void {
    this.#toClient.close();
  }
  errorStream(error: unknown): void {
    this.#toClient.error(error);
  }
  serverClose(info: unknown): void {
    this.#resolveClosed(info);
  }
  /** The frames the client wrote, reassembled. */
  sentFrames(): string[] {
    const parser = new LengthPrefixedParser(1 << 24);
    return parser.push(concat(...this.writes)).map((f) => new TextDecoder().decode(f));
  }
}

function recorder() {
  const events: { opened: number; frames: (string | Uint8Array)[]; closed: unknown[] } = { opened: 0, frames: [], closed: [] };
  const handlers: FrameHandlers = {
    open: () => void events.opened++,
    frame: (data) => void events.frames.push(data),
    closed: (error) => void events.closed.push(error ?? 'clean'),
  };
  return { events, handlers };
}

async function connected(options: Parameters<typeof webTransportTransport>[0] = {}, url = 'https://127.0.0.1:4433/v1') {
  const { events, handlers } = recorder();
  const conn = webTransportTransport({ WebTransport: FakeWebTransport, ...options })(url, handlers);
  const wt = FakeWebTransport.last!;
  wt.accept();
  await waitFor(() => events.opened === 1, { message: 'open', intervalMs: 1 });
  return { conn, wt, events };
}

describe('LengthPrefixedParser', () => {
  it('splits a byte stream into frames at every cut point', () => {
    const bytes = concat(encodeLengthPrefixed(Uint8Array.of(1, 2, 3)), encodeLengthPrefixed(new Uint8Array(0)), encodeLengthPrefixed(Uint8Array.of(9)));
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b++) {
        const p = new LengthPrefixedParser(100);
        const frames = [...p.push(bytes.subarray(0, a)), ...p.push(bytes.subarray(a, b)), ...p.push(bytes.subarray(b))];
        expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [9]]);
        expect(p.pending).toBe(0);
      }
    }
  });

  it('handles one byte at a time and a frame of exactly the limit', () => {
    const p = new LengthPrefixedParser(5);
    const out: Uint8Array[] = [];
    for (const byte of encodeLengthPrefixed(Uint8Array.of(1, 2, 3, 4, 5))) out.push(...p.push(Uint8Array.of(byte)));
    expect(out.map((f) => [...f])).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('refuses a frame over the limit from its header alone', () => {
    const p = new LengthPrefixedParser(10);
    expect(p.push(Uint8Array.of(0, 0))).toEqual([]);
    expect(() => p.push(Uint8Array.of(0, 11))).toThrow(RangeError);
    expect(() => new LengthPrefixedParser(10).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow(/4294967295 bytes is over the limit of 10/);
  });

  it('never buffers more than one frame body plus its header', () => {
    const p = new LengthPrefixedParser(1000);
    p.push(Uint8Array.of(0, 0, 3, 0xe8)); // announces 1000 bytes
    for (let i = 0; i < 999; i++) expect(p.push(Uint8Array.of(i & 0xff))).toEqual([]);
    expect(p.pending).toBe(4 + 999);
    expect(p.push(Uint8Array.of(0, 0, 0))).toHaveLength(1);
    expect(p.pending).toBe(2);
  });

  it('checks its argument', () => {
    expect(() => new LengthPrefixedParser(1.5)).toThrow(TypeError);
    expect(() => new LengthPrefixedParser(-1)).toThrow(RangeError);
    expect(() => webTransportTransport({ maxFrameBytes: 2 ** 33 })).toThrow(RangeError);
  });

  it('encodes big-endian lengths', () => {
    expect([...encodeLengthPrefixed(new Uint8Array(0x0102))].slice(0, 4)).toEqual([0, 0, 1, 2]);
  });
});

describe('webTransportTransport', () => {
  it('opens one session and one bidirectional stream, and exchanges frames', async () => {
    const hashes = [{ algorithm: 'sha-256', value: new Uint8Array(32) }];
    const { conn, wt, events } = await connected({ serverCertificateHashes: hashes });
    expect(wt.url).toBe('https://127.0.0.1:4433/v1');
    expect(wt.init).toEqual({ serverCertificateHashes: hashes });
    conn.send('{"type":"bind"}');
    conn.send('{"type":"allocate"}');
    await waitFor(() => wt.sentFrames().length === 2, { message: 'two frames', intervalMs: 1 });
    expect(wt.sentFrames()).toEqual(['{"type":"bind"}', '{"type":"allocate"}']);
    // Two frames split across three chunks, one with a non-ASCII character cut in the middle.
    const bytes = concat(frame('{"type":"welcome"}'), frame('{"type":"ack","x":"é🌍"}'));
    wt.push(bytes.subarray(0, 3));
    wt.push(bytes.subarray(3, bytes.length - 3));
    wt.push(bytes.subarray(bytes.length - 3));
    await waitFor(() => events.frames.length === 2, { message: 'two frames in', intervalMs: 1 });
    expect(events.frames).toEqual(['{"type":"welcome"}', '{"type":"ack","x":"é🌍"}']);
    expect(events.closed).toEqual([]);
  });

  it('maps a wss: mailbox URL to https: and passes no hashes unless given', async () => {
    const { wt } = await connected({}, 'wss://gw.test:4433/v1');
    expect(wt.url).toBe('https://gw.test:4433/v1');
    expect(wt.init).toEqual({});
  });

  it('splits writes into pieces of at most 32 KiB', async () => {
    const { conn, wt } = await connected();
    const big = `"${'x'.repeat(200 * 1024)}"`;
    conn.send(big);
    await waitFor(() => wt.sentFrames().length === 1, { message: 'the big frame', intervalMs: 1 });
    expect(wt.sentFrames()).toEqual([big]);
    expect(wt.writes.length).toBe(Math.ceil((big.length + 4) / MAX_WEBTRANSPORT_WRITE));
    expect(Math.max(...wt.writes.map((w) => w.length))).toBe(MAX_WEBTRANSPORT_WRITE);
  });

  it('hands over bytes that are not UTF-8 rather than a mangled string', async () => {
    const { wt, events } = await connected();
    wt.push(encodeLengthPrefixed(Uint8Array.of(0xff, 0xfe)));
    await waitFor(() => events.frames.length === 1, { message: 'a frame', intervalMs: 1 });
    expect(events.frames[0]).toEqual(Uint8Array.of(0xff, 0xfe));
  });

  it('fails the connection on a frame over maxFrameBytes without reading it', async () => {
    const { wt, events } = await connected({ maxFrameBytes: 64 });
    wt.push(concat(frame('{"ok":1}'), Uint8Array.of(0, 0, 0, 65)));
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.frames).toEqual(['{"ok":1}']);
    expect(events.closed[0]).toBeInstanceOf(WormholeError);
    expect(events.closed[0]).toMatchObject({ code: 'ServerProtocol' });
    expect(wt.closeCalls.length).toBeGreaterThan(0);
  });

  it('defaults to a generous but bounded frame limit', async () => {
    const { wt, events } = await connected();
    wt.push(Uint8Array.of(...[DEFAULT_MAX_FRAME_BYTES + 1].flatMap((n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])));
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.closed[0]).toMatchObject({ code: 'ServerProtocol' });
  });

  it('reports a stream that ends inside a frame', async () => {
    const { wt, events } = await connected();
    wt.push(frame('{"a":1}').subarray(0, 6));
    wt.endStream();
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.closed[0]).toMatchObject({ code: 'ServerProtocol' });
  });

  it('treats the end of the stream at a frame boundary as a clean close', async () => {
    const { wt, events } = await connected();
    wt.push(frame('{"a":1}'));
    wt.endStream();
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.closed).toEqual(['clean']);
    expect(events.frames).toEqual(['{"a":1}']);
  });

  it('closes cleanly: flushes queued frames, ends the stream and the session, reports once', async () => {
    const { conn, wt, events } = await connected();
    conn.send('{"type":"close"}');
    conn.close();
    conn.close();
    conn.send('{"type":"late"}');
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(wt.sentFrames()).toEqual(['{"type":"close"}']);
    expect(wt.writableClosed).toBe(true);
    expect(wt.closeCalls[0]).toEqual({ closeCode: 0, reason: '' });
    // A stream error after our own close is not a failure, and nothing is reported twice.
    wt.errorStream(new Error('reset after close'));
    await settled();
    expect(events.closed).toEqual(['clean']);
  });

  it('can be closed before the session is ready', async () => {
    const { events, handlers } = recorder();
    const conn = webTransportTransport({ WebTransport: FakeWebTransport })('https://127.0.0.1:1/v1', handlers);
    conn.close();
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events).toMatchObject({ opened: 0, closed: ['clean'] });
  });

  it('reports a session that cannot be established, once', async () => {
    const { events, handlers } = recorder();
    webTransportTransport({ WebTransport: FakeWebTransport })('https://127.0.0.1:1/v1', handlers);
    FakeWebTransport.last!.refuse(new Error('WebTransportError: connection refused'));
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    await settled();
    expect(events.opened).toBe(0);
    expect(events.closed).toHaveLength(1);
    expect(events.closed[0]).toMatchObject({ code: 'Connection' });
    expect((events.closed[0] as WormholeError).cause).toBeInstanceOf(Error);
  });

  it('reports a server close with an error code as a failure, with the reason', async () => {
    const { wt, events } = await connected();
    wt.serverClose({ closeCode: 1009, reason: 'frame too large' });
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.closed[0]).toMatchObject({ code: 'Connection' });
    expect(String((events.closed[0] as Error).message)).toMatch(/1009: frame too large/);
  });

  it('reports a server close with code 0 as clean', async () => {
    const { wt, events } = await connected();
    wt.serverClose({ closeCode: 0, reason: '' });
    await waitFor(() => events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(events.closed).toEqual(['clean']);
  });

  it('reports a stream error and a failed write', async () => {
    const a = await connected();
    a.wt.errorStream(new Error('stream reset'));
    await waitFor(() => a.events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(a.events.closed[0]).toMatchObject({ code: 'Connection' });

    const b = await connected();
    b.wt.failWrites = new Error('write refused');
    b.conn.send('{"type":"bind"}');
    await waitFor(() => b.events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(b.events.closed[0]).toMatchObject({ code: 'Connection' });
  });

  it('reports a missing implementation, a throwing constructor and a bad URL through closed, never by throwing', async () => {
    const g = globalThis as { WebTransport?: unknown };
    const saved = g.WebTransport;
    delete g.WebTransport;
    try {
      const none = recorder();
      webTransportTransport()('https://127.0.0.1:1/v1', none.handlers);
      await waitFor(() => none.events.closed.length === 1, { message: 'closed', intervalMs: 1 });
      expect(none.events.closed[0]).toMatchObject({ code: 'Usage' });
    } finally {
      if (saved !== undefined) g.WebTransport = saved;
    }

    const Throwing = class {
      constructor() {
        throw new TypeError('invalid serverCertificateHashes');
      }
    } as unknown as typeof FakeWebTransport;
    const thrown = recorder();
    webTransportTransport({ WebTransport: Throwing })('https://127.0.0.1:1/v1', thrown.handlers);
    await waitFor(() => thrown.events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(thrown.events.closed[0]).toMatchObject({ code: 'Connection' });

    const bad = recorder();
    webTransportTransport({ WebTransport: FakeWebTransport })('ws://127.0.0.1:1/v1', bad.handlers);
    await waitFor(() => bad.events.closed.length === 1, { message: 'closed', intervalMs: 1 });
    expect(bad.events.closed[0]).toMatchObject({ code: 'Usage' });
  });

  it('reads no global until a connection opens', () => {
    const g = globalThis as { WebTransport?: unknown };
    const saved = g.WebTransport;
    let reads = 0;
    Object.defineProperty(g, 'WebTransport', {
      configurable: true,
      get: () => {
        reads++;
        return undefined;
      },
    });
    try {
      webTransportTransport();
      expect(reads).toBe(0);
    } finally {
      delete g.WebTransport;
      if (saved !== undefined) g.WebTransport = saved;
    }
  });
});
