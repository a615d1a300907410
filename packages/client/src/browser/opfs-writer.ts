/**
 * Durable appends to an OPFS file, for partial data that must survive a
 * closed tab or a crash. A `createWritable()` stream writes to a swap file
 * that only replaces the real one on `close()`, so it loses everything on a
 * crash; two ways round that:
 *
 * - `sync` (preferred): a dedicated Worker (started from a Blob URL, so it
 *   works from every build) holds a `FileSystemSyncAccessHandle` per file and
 *   writes in place. Bytes reach the file as they are written; `flush()`
 *   runs every `flushBytes` and at the end. The page hands the Worker 256 KiB
 *   batches, at most 2 MiB in flight, so memory stays bounded.
 * - `segments` (where Workers or sync handles are unavailable): a
 *   `createWritable({ keepExistingData })` closed every `segmentBytes`, so a
 *   crash loses one segment at most. Each segment copies the file into the
 *   swap file (quadratic for large files): a fallback only.
 */
import { bestEffort, WormholeError } from '@burrow/protocol';
import type { OpfsFile } from './opfs-handles.js';

/** What the Worker is asked to do, in order (it runs one message at a time). */
type WorkerRequest =
  | { seq: number; op: 'open'; id: number; handle: OpfsFile; from: number }
  | { seq: number; op: 'write'; id: number; at: number; data: Uint8Array }
  | { seq: number; op: 'flush' | 'close'; id: number };
type WorkerReply = { seq: number; ok: true } | { seq: number; ok: false; name: string; message: string };

/** The Worker: plain JS, no imports, so it runs from a Blob URL under any bundler. */
const WORKER_SOURCE = `"use strict";
const files = new Map();
let chain = Promise.resolve();
async function run(m) {
  if (m.op === 'open') {
    const h = await m.handle.createSyncAccessHandle();
    try { h.truncate(m.from); h.flush(); } catch (e) { h.close(); throw e; }
    files.set(m.id, h);
    return;
  }
  const h = files.get(m.id);
  if (!h) throw new Error('file ' + m.id + ' is not open');
  if (m.op === 'write') {
    let at = m.at, data = m.data;
    while (data.length > 0) { const n = h.write(data, { at }); if (!(n > 0)) throw new Error('short write'); at += n; data = data.subarray(n); }
  } else if (m.op === 'flush') {
    h.flush();
  } else if (m.op === 'close') {
    files.delete(m.id);
    try { h.flush(); } finally { h.close(); }
  }
}
self.onmessage = (e) => {
  const m = e.data;
  chain = chain.then(() => run(m)).then(
    () => self.postMessage({ seq: m.seq, ok: true }),
    (err) => self.postMessage({ seq: m.seq, ok: false, name: String(err && err.name), message: String(err && err.message || err) }),
  );
};`;

export type WorkerConstructor = new (url: string) => Worker;

/** One Worker shared by the files a sink has open; it stops when none is. */
export class SyncAccessWorker {
  #worker: Worker | undefined;
  #url: string | undefined;
  #seq = 0;
  #ids = 0;
  #users = 0;
  #pending = new Map<number, { resolve(): void; reject(err: unknown): void }>();

  constructor(private readonly Ctor: WorkerConstructor) {}

  #start(): Worker {
    if (this.#worker) return this.#worker;
    this.#url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new this.Ctor(this.#url);
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const p = this.#pending.get(e.data.seq);
      this.#pending.delete(e.data.seq);
      if (!p) return;
      if (e.data.ok) p.resolve();
      else p.reject(Object.assign(new Error(e.data.message), { name: e.data.name }));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`the OPFS writer Worker failed: ${e.message || 'it could not start'}`));
    };
    this.#worker = worker;
    return worker;
  }

  #fail(err: Error): void {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    this.#stop();
    for (const p of waiting) p.reject(err);
  }

  #stop(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = undefined;
  }

  #call(request: Record<string, unknown> & { op: WorkerRequest['op'] }, transfer: Transferable[] = []): Promise<void> {
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      try {
        this.#start().postMessage({ ...request, seq }, transfer);
      } catch (err) {
        this.#pending.delete(seq);
        reject(err);
      }
    });
  }

  /**
   * Open `handle` for writing, keeping its first `from` bytes. Rejects (and
   * gives the Worker back) where sync access handles cannot be had.
   */
  async open(handle: OpfsFile, from: number): Promise<SyncFile> {
    const id = ++this.#ids;
    this.#users++;
    try {
      await this.#call({ op: 'open', id, handle, from });
    } catch (err) {
      this.#release();
      throw err;
    }
    let closed = false;
    return {
      write: (at, data) => this.#call({ op: 'write', id, at, data }, [data.buffer as ArrayBuffer]),
      flush: () => this.#call({ op: 'flush', id }),
      close: async () => {
        if (closed) return;
        closed = true;
        try {
          await this.#call({ op: 'close', id });
        } finally {
          this.#release();
        }
      },
    };
  }

  #release(): void {
    if (--this.#users === 0 && this.#pending.size === 0) this.#stop();
  }
}

/** A file open in the Worker. `data` passed to `write` is transferred (detached). */
export interface SyncFile {
  write(at: number, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
/** Bytes handed to the Worker at once, and at most in flight: what a closed tab can lose per open file. */
const BATCH = 256 * 1024;
const IN_FLIGHT = 2 * MiB;

/**
 * A stream appending at `from` through the Worker. Close flushes; abort
 * writes what it was given and flushes too (kept bytes are good bytes).
 */
export function syncWritable(file: SyncFile, from: number, flushBytes: number): WritableStream<Uint8Array> {
  let at = from;
  let batch = new Uint8Array(BATCH);
  let fill = 0;
  let sinceFlush = 0;
  let failure: unknown;
  const inFlight: { bytes: number; done: Promise<void> }[] = [];
  const track = (bytes: number, p: Promise<void>) => {
    const done = p.catch((err: unknown) => {
      failure ??= err;
    });
    inFlight.push({ bytes, done });
  };
  const send = async () => {
    if (fill === 0) return;
    const data = fill === batch.length ? batch : batch.slice(0, fill);
    const bytes = fill;
    track(bytes, file.write(at, data));
    at += bytes;
    sinceFlush += bytes;
    batch = new Uint8Array(BATCH);
    fill = 0;
    if (sinceFlush >= flushBytes) {
      sinceFlush = 0;
      track(0, file.flush());
    }
    while (inFlight.reduce((n, f) => n + f.bytes, 0) > IN_FLIGHT) await inFlight.shift()!.done;
  };
  const finish = async () => {
    await send();
    track(0, file.close());
    await Promise.all(inFlight.map((f) => f.done));
    inFlight.length = 0;
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (failure) throw failure;
      for (let off = 0; off < chunk.length; ) {
        const n = Math.min(chunk.length - off, batch.length - fill);
        batch.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === batch.length) await send();
      }
      if (failure) throw failure;
    },
    async close() {
      await finish();
      if (failure) throw failure;
    },
    async abort() {
      await finish().catch(bestEffort);
    },
  });
}

/**
 * A stream appending at `from` through `createWritable`, committed every
 * `segmentBytes` (see the module comment).
 */
export function segmentWritable(handle: OpfsFile, from: number, segmentBytes: number): WritableStream<Uint8Array> {
  let at = from;
  let segment: { writable: Awaited<ReturnType<OpfsFile['createWritable']>>; bytes: number } | undefined;
  let first = true;
  const commit = async () => {
    if (!segment) return;
    const s = segment;
    segment = undefined;
    await s.writable.close();
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      if (!segment) {
        const writable = await handle.createWritable({ keepExistingData: true });
        if (first) await writable.truncate(at);
        first = false;
        await writable.seek(at);
        segment = { writable, bytes: 0 };
      }
      await segment.writable.write(chunk);
      segment.bytes += chunk.length;
      at += chunk.length;
      if (segment.bytes >= segmentBytes) await commit();
    },
    async close() {
      if (first) {
        // Nothing written: still drop what lies beyond `from`.
        const writable = await handle.createWritable({ keepExistingData: true });
        await writable.truncate(at);
        await writable.close();
        return;
      }
      await commit();
    },
    async abort() {
      await commit().catch(bestEffort);
    },
  });
}

/** Whether this page can start Workers at all (the sync path is then tried per file). */
export function workerConstructor(option: boolean | WorkerConstructor | undefined): WorkerConstructor | undefined {
  if (option === false) return undefined;
  if (typeof option === 'function') return option;
  const Ctor = (globalThis as { Worker?: WorkerConstructor }).Worker;
  if (option === true && !Ctor) throw new WormholeError('Usage', 'opfsFilesSink: { worker: true } but this page has no Worker');
  return Ctor;
}
