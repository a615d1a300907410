// Burrow ↔ Burrow file, directory and text transfer with no sockets: the
// testkit's in-memory mailbox and an in-memory "network" of byte channels
// (listeners, a TCP dialer, a transit relay that glues by token).
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryMailbox } from '../src/testing.js';
import {
  createWormhole,
  isWormholeError,
  receiveOffer,
  sendDirectory,
  sendFile,
  type ByteChannel,
  type DirectorySink,
  type TcpDialer,
  type TransferProgress,
  type TransitListen,
  type Wormhole,
} from '../src/index.js';
import { TransitConnector } from '../src/testing.js';
import { concatBytes, createSha256, fromUtf8, transitKey, utf8 } from '@burrow/protocol';
import { SPOOL_BYTES, planZip, writeZip, type ZipPlan } from '../src/transfer/zip.js';

/** Two connected byte channels; `close()` on either ends both. */
function pipePair(log?: { a: Uint8Array[]; b: Uint8Array[] }): [ByteChannel, ByteChannel] {
  const side = () => {
    let c!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({ start: (x) => void (c = x) });
    return { readable, c };
  };
  const a = side();
  const b = side();
  let closed = false;
  const end = () => {
    if (closed) return;
    closed = true;
    for (const s of [a, b]) {
      try {
        s.c.close();
      } catch {
        // closed already
      }
    }
  };
  const writable = (peer: typeof a, record?: Uint8Array[]) =>
    new WritableStream<Uint8Array>({
      write(chunk) {
        if (closed) throw new Error('connection closed');
        record?.push(chunk.slice());
        peer.c.enqueue(chunk.slice());
      },
      close: end,
      abort: end,
    });
  return [
    { readable: a.readable, writable: writable(b, log?.a), close: end },
    { readable: b.readable, writable: writable(a, log?.b), close: end },
  ];
}

/** Hosts and ports in memory. */
class MemoryNet {
  readonly listeners = new Map<string, (ch: ByteChannel, d: string) => void>();
  readonly dialed: { target: string; written: Uint8Array[] }[] = [];
  #port = 40000;

  listen(hosts: string[] = ['10.0.0.1']): TransitListen {
    return async (onConnection) => {
      const port = this.#port++;
      for (const h of hosts) this.listeners.set(`${h}:${port}`, onConnection);
      return { hints: hosts.map((hostname) => ({ hostname, port })), close: () => hosts.forEach((h) => this.listeners.delete(`${h}:${port}`)) };
    };
  }

  tcp: TcpDialer = async (host, port) => {
    const l = this.listeners.get(`${host}:${port}`);
    if (!l) throw new Error(`ECONNREFUSED ${host}:${port}`);
    const log = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
    const [mine, theirs] = pipePair(log);
    this.dialed.push({ target: `${host}:${port}`, written: log.a });
    l(theirs, `dialer:${port}`);
    return mine;
  };

  /** A transit relay at host:port: pairs connections that send the same token, answers ok\n, then pipes. */
  relay(host: string, port: number): void {
    interface Waiting {
      side: string;
      ch: ByteChannel;
      reader: ReadableStreamDefaultReader<Uint8Array>;
      rest: Uint8Array;
    }
    const waiting = new Map<string, Waiting>();
    this.listeners.set(`${host}:${port}`, (ch) => {
      void (async () => {
        const reader = ch.readable.getReader();
        let buf = new Uint8Array(0);
        while (!buf.includes(10)) {
          const r = await reader.read();
          if (r.done) return;
          const next = new Uint8Array(buf.length + r.value.length);
          next.set(buf);
          next.set(r.value, buf.length);
          buf = next;
        }
        const nl = buf.indexOf(10);
        const m = /^please relay ([0-9a-f]{64}) for side ([0-9a-f]{16})$/.exec(fromUtf8(buf.subarray(0, nl)));
        if (!m) return ch.close();
        const me: Waiting = { side: m[2]!, ch, reader, rest: buf.subarray(nl + 1) };
        const other = waiting.get(m[1]!);
        if (!other || other.side === me.side) return void waiting.set(m[1]!, me);
        waiting.delete(m[1]!);
        const pump = async (from: Waiting, to: Waiting) => {
          const w = to.ch.writable.getWriter();
          await w.write(utf8('ok\n'));
          if (from.rest.length) await w.write(from.rest);
          for (;;) {
            const r = await from.reader.read().catch(() => ({ done: true as const, value: undefined }));
            if (r.done) return to.ch.close();
            await w.write(r.value).catch(() => from.ch.close());
          }
        };
        void pump(me, other);
        void pump(other, me);
      })();
    });
  }
}

function memoryFileSink(): { sink: WritableStream<Uint8Array>; data: () => Uint8Array; state: () => string } {
  const parts: Uint8Array[] = [];
  let state = 'open';
  return {
    sink: new WritableStream({ write: (c) => void parts.push(c.slice()), close: () => void (state = 'committed'), abort: () => void (state = 'aborted') }),
    data: () => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) out.set(p, o), (o += p.length);
      return out;
    },
    state: () => state,
  };
}

class MemoryDirSink implements DirectorySink {
  readonly dirs = new Map<string, number>();
  readonly files = new Map<string, { data: Uint8Array[]; mode: number }>();
  state = 'open';
  async mkdir(s: readonly string[]) {
    this.dirs.set(s.join('/'), 0o755);
  }
  async createFile(s: readonly string[]) {
    const f = { data: [] as Uint8Array[], mode: 0o644 };
    this.files.set(s.join('/'), f);
    return new WritableStream<Uint8Array>({ write: (c) => void f.data.push(c.slice()) });
  }
  async chmod(s: readonly string[], mode: number, isDirectory: boolean) {
    if (isDirectory) this.dirs.set(s.join('/'), mode);
    else this.files.get(s.join('/'))!.mode = mode;
  }
  async commit() {
    this.state = 'committed';
  }
  async abort() {
    this.state = 'aborted';
  }
  text(path: string) {
    return fromUtf8(Uint8Array.from(this.files.get(path)!.data.flatMap((d) => [...d])));
  }
}

const streamOf = (data: Uint8Array, chunk = 10_000) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < data.length; i += chunk) c.enqueue(data.slice(i, i + chunk));
      c.close();
    },
  });

const wormholes: Wormhole[] = [];
async function pair(): Promise<[Wormhole, Wormhole]> {
  const server = new MemoryMailbox();
  const transport = server.transport;
  const a = await createWormhole({ mailbox: server.url, transport });
  const b = await createWormhole({ mailbox: server.url, transport });
  b.setCode(await a.allocateCode());
  wormholes.push(a, b);
  return [a, b];
}

afterEach(async () => {
  await Promise.allSettled(wormholes.splice(0).map((w) => w.close()));
});

const payload = Uint8Array.from({ length: 3_000_001 }, (_, i) => (i * 31 + (i >> 8)) & 255);
const sha = (d: Uint8Array) => {
  const h = createSha256();
  h.update(d);
  return h.hexDigest();
};

describe('file transfer, Burrow to Burrow', () => {
  it('direct: the bytes, the hash and progress arrive', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const progress: TransferProgress[] = [];
    const sending = sendFile(a, { name: 'data.bin', size: payload.length, stream: () => streamOf(payload) }, {
      transit: { dialers: { tcp: net.tcp }, listen: net.listen() },
      recordSize: 65536,
      progressIntervalMs: 0,
      onProgress: (p) => progress.push(p),
    });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.2']) } });
    expect(offer).toMatchObject({ type: 'file', name: 'data.bin', size: payload.length });
    if (offer.type !== 'file') return;
    const sink = memoryFileSink();
    const [sent, got] = await Promise.all([sending, offer.accept(sink.sink)]);
    expect(sink.state()).toBe('committed');
    expect(sha(sink.data())).toBe(sha(payload)); // (toEqual on MBs of bytes is very slow)
    expect(sent.sha256).toBe(sha(payload));
    expect(got.sha256).toBe(sent.sha256);
    expect(sent.via).toBe('direct');
    expect(got.via).toBe('direct');
    expect(progress.at(-1)).toMatchObject({ bytes: payload.length, total: payload.length, done: true });
    expect(progress.every((p, i) => i === 0 || p.bytes >= progress[i - 1]!.bytes)).toBe(true);
  });

  it('relay only (nobody listens): both meet at the relay', async () => {
    const net = new MemoryNet();
    net.relay('relay.test', 4001);
    const [a, b] = await pair();
    const transit = { dialers: { tcp: net.tcp }, relays: ['tcp:relay.test:4001'] };
    const sending = sendFile(a, { name: 'x', size: 100_000, stream: streamOf(payload.subarray(0, 100_000)) }, { transit });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'file') throw new Error('expected a file');
    const sink = memoryFileSink();
    const [sent, got] = await Promise.all([sending, offer.accept(sink.sink)]);
    expect(sent.via).toBe('relay');
    expect(got.via).toBe('relay');
    expect(got.connection).toBe('->relay:tcp:relay.test:4001');
    expect(sha(sink.data())).toBe(sha(payload.subarray(0, 100_000)));
  });

  it('an empty file', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFile(a, { name: 'empty', size: 0, stream: streamOf(new Uint8Array(0)) }, { transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'file') throw new Error('expected a file');
    const sink = memoryFileSink();
    await Promise.all([sending, offer.accept(sink.sink)]);
    expect(sink.state()).toBe('committed');
    expect(sink.data()).toHaveLength(0);
  });

  it('a refused offer rejects the sender with Rejected', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFile(a, { name: 'x', size: 10, stream: streamOf(new Uint8Array(10)) }, { transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b);
    if (offer.type !== 'file') throw new Error('expected a file');
    await offer.reject();
    const err = await sending.catch((e: unknown) => e);
    expect(isWormholeError(err, 'Rejected'), String(err)).toBe(true);
    expect((err as Error).message).toContain('transfer rejected');
    await expect(offer.reject()).rejects.toThrow(/already/);
  });

  it('a source shorter than its size fails the sender, and the receiver discards the partial file', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFile(a, { name: 'x', size: 200_000, stream: streamOf(new Uint8Array(150_000)) }, { transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'file') throw new Error('expected a file');
    const sink = memoryFileSink();
    const [s, r] = await Promise.allSettled([sending, offer.accept(sink.sink)]);
    expect(s.status === 'rejected' && isWormholeError(s.reason, 'TransferFailed')).toBe(true);
    expect(r.status === 'rejected' && isWormholeError(r.reason, 'TransferFailed'), String((r as PromiseRejectedResult).reason)).toBe(true);
    expect(sink.state()).toBe('aborted');
  });

  it('aborting the sender mid-stream: Aborted there, TransferFailed and an aborted sink on the other side', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const ctrl = new AbortController();
    let sentBytes = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 1)); // paces the producer only
        c.enqueue(new Uint8Array(16_384));
        sentBytes += 16_384;
        if (sentBytes > 200_000) ctrl.abort();
      },
    });
    const sending = sendFile(a, { name: 'x', size: 10_000_000, stream: slow }, { signal: ctrl.signal, recordSize: 16_384, transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'file') throw new Error('expected a file');
    const sink = memoryFileSink();
    const [s, r] = await Promise.allSettled([sending, offer.accept(sink.sink)]);
    expect(s.status === 'rejected' && isWormholeError(s.reason, 'Aborted'), String((s as PromiseRejectedResult).reason)).toBe(true);
    expect(r.status === 'rejected' && isWormholeError(r.reason, 'TransferFailed'), String((r as PromiseRejectedResult).reason)).toBe(true);
    expect(sink.state()).toBe('aborted');
  });

  it('aborting the receiver mid-stream: Aborted there, the sink aborted, the sender fails', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const endless = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 1)); // paces the producer only
        c.enqueue(new Uint8Array(16_384));
      },
    });
    const sending = sendFile(a, { name: 'x', size: 10_000_000, stream: endless }, { recordSize: 16_384, transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'file') throw new Error('expected a file');
    const sink = memoryFileSink();
    const ctrl = new AbortController();
    const receiving = offer.accept(sink.sink, { signal: ctrl.signal, progressIntervalMs: 0, onProgress: (p) => p.bytes > 100_000 && ctrl.abort() });
    const [s, r] = await Promise.allSettled([sending, receiving]);
    expect(r.status === 'rejected' && isWormholeError(r.reason, 'Aborted'), String((r as PromiseRejectedResult).reason)).toBe(true);
    expect(s.status === 'rejected' && isWormholeError(s.reason), String((s as PromiseRejectedResult).reason)).toBe(true);
    expect(sink.state()).toBe('aborted');
  });

  it('texts go through receiveOffer too', async () => {
    const [a, b] = await pair();
    const sending = a.sendText('hello');
    const offer = await receiveOffer(b);
    expect(offer).toEqual({ type: 'message', message: 'hello' });
    await sending;
  });
});

describe('directory transfer, Burrow to Burrow', () => {
  it('files, empty directories, modes and odd names arrive; the sink is committed', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const file = (path: string, text: string, mode?: number) => ({
      path,
      type: 'file' as const,
      ...(mode === undefined ? {} : { mode }),
      open: () => streamOf(utf8(text), 7),
    });
    const source = {
      name: 'proj',
      entries: [
        { path: 'empty', type: 'directory' as const, mode: 0o700 },
        file('README', 'read me\n'.repeat(5000)),
        file('bin/run', '#!/bin/sh\n', 0o755),
        file('deep/er/still/ünï ✓ "q".txt', 'odd'),
        file('zero', ''),
      ],
    };
    const sending = sendDirectory(a, source, { transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    expect(offer).toMatchObject({ type: 'directory', name: 'proj', numFiles: 4, numBytes: 40_000 + 10 + 3 });
    if (offer.type !== 'directory') return;
    const sink = new MemoryDirSink();
    const [sent, got] = await Promise.all([sending, offer.accept(sink)]);
    expect(got.sha256).toBe(sent.sha256);
    expect(sent.bytes).toBe(offer.zipSize);
    expect(offer.zipSize).toBeLessThan(40_000); // deflated
    expect(sink.state).toBe('committed');
    expect([...sink.dirs]).toEqual(
      expect.arrayContaining([
        ['empty', 0o700],
        ['bin', 0o755],
        ['deep/er/still', 0o755],
      ]),
    );
    expect(sink.text('README')).toBe('read me\n'.repeat(5000));
    expect(sink.files.get('bin/run')!.mode).toBe(0o755);
    expect(sink.text('deep/er/still/ünï ✓ "q".txt')).toBe('odd');
    expect(sink.text('zero')).toBe('');
  });

  it('a file too big to keep from the sizing pass is read again; if it changed, the transfer fails', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    let opened = 0;
    const big = SPOOL_BYTES + 1; // zeros: cheap to deflate, but more than the spool keeps
    const open = () => {
      const data = new Uint8Array(big);
      if (opened++ > 0) data[big - 1] = 1;
      return streamOf(data, 1 << 20);
    };
    const source = { name: 'd', entries: [{ path: 'f', type: 'file' as const, open }] };
    const sending = sendDirectory(a, source, { transit: { dialers: { tcp: net.tcp }, listen: net.listen() } });
    const offer = await receiveOffer(b, { transit: { dialers: { tcp: net.tcp } } });
    if (offer.type !== 'directory') throw new Error('expected a directory');
    const sink = new MemoryDirSink();
    const [s] = await Promise.allSettled([sending, offer.accept(sink)]);
    expect(s.status === 'rejected' && /changed while it was being sent/.test(String(s.reason))).toBe(true);
    expect(opened).toBe(2);
    expect(sink.state).toBe('aborted');
  });
});

describe('zip planning reads small files once', () => {
  const collect = async (plan: ZipPlan) => {
    const out: Uint8Array[] = [];
    await writeZip(plan, async (b) => void out.push(b.slice()));
    return Buffer.from(concatBytes(...out));
  };

  it('what pass 1 kept goes out byte for byte as a second read would send it; only big files are opened twice', async () => {
    const opens = new Map<string, number>();
    const random = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
    const file = (path: string, data: Uint8Array) => ({
      path,
      type: 'file' as const,
      open: () => (opens.set(path, (opens.get(path) ?? 0) + 1), streamOf(data, 50_000)),
    });
    const source = {
      name: 'd',
      entries: [
        file('text', utf8('compressible '.repeat(20_000))),
        file('noise', random),
        file('big', new Uint8Array(900_000)),
        file('empty', new Uint8Array(0)),
      ],
    };
    for (const level of [0, 6]) {
      opens.clear();
      const plan = await planZip(source, level, undefined, 800_000); // 'big' does not fit in what is left
      const once = await collect(plan);
      expect(Object.fromEntries(opens)).toEqual({ text: 1, noise: 1, big: 2, empty: 1 });
      const twice = await collect({ ...plan, spooled: plan.spooled.map(() => undefined) });
      expect(once.equals(twice)).toBe(true);
      expect(once.length).toBe(plan.zipsize);
    }
  });
});

describe('TransitConnector', () => {
  const key = transitKey(new Uint8Array(32).fill(3));

  it('first handshake wins; the sender tells the other candidate nevermind', async () => {
    const net = new MemoryNet();
    const receiver = await TransitConnector.create({ role: 'receiver', key, listen: net.listen(['10.0.0.1', '10.0.0.9']), dialers: {} });
    const sender = await TransitConnector.create({ role: 'sender', key, dialers: { tcp: net.tcp } });
    sender.addPeerHints({ abilities: [], direct: [{ hostname: '10.0.0.1', port: 40000, priority: 0 }, { hostname: '10.0.0.9', port: 40000, priority: 0 }], relays: [] });
    const [s, r] = await Promise.all([sender.connect(), receiver.connect()]);
    expect(s.kind).toBe('direct');
    const said = net.dialed.map((d) => fromUtf8(Uint8Array.from(d.written.flatMap((c) => [...c]))).split('\n').filter(Boolean).slice(-1)[0]);
    expect(said.sort()).toEqual(['go', 'nevermind']);
    // Records flow on the winner.
    const w = s.writable.getWriter();
    await w.write(utf8('ping'));
    const got = await r.readable.getReader().read();
    expect(fromUtf8(got.value!)).toBe('ping');
    s.close();
    r.close();
    sender.close();
    receiver.close();
  });

  it('nothing to try and nobody listening: a Connection error at once', async () => {
    const c = await TransitConnector.create({ role: 'sender', key, dialers: { tcp: new MemoryNet().tcp } });
    c.addPeerHints({ abilities: [], direct: [{ hostname: 'nowhere', port: 1, priority: 0 }], relays: [] });
    const err = await c.connect().catch((e: unknown) => e);
    expect(isWormholeError(err, 'Connection'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('a listener that nobody dials: Timeout after timeoutMs', async () => {
    const c = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen(), timeoutMs: 50 });
    const err = await c.connect().catch((e: unknown) => e);
    expect(isWormholeError(err, 'Timeout'), String(err)).toBe(true);
  });

  it('connect() honours an AbortSignal', async () => {
    const c = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen() });
    const err = await c.connect({ signal: AbortSignal.timeout(20) }).catch((e: unknown) => e);
    expect(isWormholeError(err, 'Timeout'), String(err)).toBe(true);
    const c2 = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen() });
    const ctrl = new AbortController();
    const p = c2.connect({ signal: ctrl.signal });
    ctrl.abort();
    expect(isWormholeError(await p.catch((e: unknown) => e), 'Aborted')).toBe(true);
  });
});
