/**
 * Shared set-up for the Burrow ↔ Burrow transfer tests with no sockets: the
 * in-memory mailbox, an in-memory "network" of byte channels (listeners, a
 * TCP dialer, a transit relay that glues by token) and in-memory sinks.
 */
import { MemoryMailbox } from '../../src/testing.js';
import { createWormhole, type ByteChannel, type DirectorySink, type TcpDialer, type TransitListen, type Wormhole } from '../../src/index.js';
import { createSha256, fromUtf8, utf8 } from '@burrow/protocol';

/** Two connected byte channels; `close()` on either ends both. */
export function pipePair(log?: { a: Uint8Array[]; b: Uint8Array[] }, path: { lost: boolean } = { lost: false }): [ByteChannel, ByteChannel] {
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
        if (path.lost) return; // a path that silently stopped carrying anything
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
export class MemoryNet {
  readonly listeners = new Map<string, (ch: ByteChannel, d: string) => void>();
  readonly dialed: { target: string; written: Uint8Array[] }[] = [];
  readonly #open: ByteChannel[] = [];
  readonly #paths: { lost: boolean }[] = [];
  #port = 40000;

  /** Cut every connection made so far (a dropped network), as both ends see it. */
  cut(): void {
    for (const ch of this.#open.splice(0)) ch.close();
  }

  /** Every connection made so far silently stops carrying bytes: writes still succeed, nothing arrives, nobody is told. */
  blackhole(): void {
    for (const p of this.#paths.splice(0)) p.lost = true;
  }

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
    const path = { lost: false };
    this.#paths.push(path);
    const [mine, theirs] = pipePair(log, path);
    this.dialed.push({ target: `${host}:${port}`, written: log.a });
    this.#open.push(mine);
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

/** A file sink in memory: the bytes written and whether it was committed or aborted. */
export function memoryFileSink(): { sink: WritableStream<Uint8Array>; data: () => Uint8Array; state: () => string } {
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

/** A directory sink in memory: directories, files with their modes, and its final state. */
export class MemoryDirSink implements DirectorySink {
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

/** A readable stream of `data` in chunks of `chunk` bytes. */
export const streamOf = (data: Uint8Array, chunk = 10_000) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < data.length; i += chunk) c.enqueue(data.slice(i, i + chunk));
      c.close();
    },
  });

const wormholes: Wormhole[] = [];

/** Two wormholes on a fresh in-memory mailbox, sharing a code. Close them with {@link closePairs}. */
export async function pair(): Promise<[Wormhole, Wormhole]> {
  const server = new MemoryMailbox();
  const transport = server.transport;
  const a = await createWormhole({ mailbox: server.url, transport });
  const b = await createWormhole({ mailbox: server.url, transport });
  b.setCode(await a.allocateCode());
  wormholes.push(a, b);
  return [a, b];
}

/** Close every wormhole {@link pair} made (for `afterEach`). */
export async function closePairs(): Promise<void> {
  await Promise.allSettled(wormholes.splice(0).map((w) => w.close()));
}

/** 3 MB of patterned bytes. */
export const payload = Uint8Array.from({ length: 3_000_001 }, (_, i) => (i * 31 + (i >> 8)) & 255);
/** Hex SHA-256 of `d`. */
export const sha = (d: Uint8Array) => {
  const h = createSha256();
  h.update(d);
  return h.hexDigest();
};
