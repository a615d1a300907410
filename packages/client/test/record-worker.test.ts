// The record Worker pool's parts, in Node: the generated Worker script is
// fresh and seals/opens exactly as RecordEncoder/RecordDecoder do; the
// pooled streams deliver records in counter order whatever order the pool
// finishes them in, and fail with the decoder's errors. (The real Workers
// run in Chromium: e2e/record-workers.test.ts.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RecordDecoder, RecordEncoder, recordKeys, toHex, transitKey, type RecordKeys } from '@burrow/protocol';
import { recordWorkerModule } from '../../../scripts/record-worker.js';
import type { RecordJob, RecordJobResult } from '../src/transit/record-job.js';
import { pooledReadable, pooledWritable } from '../src/transit/record-pipeline.js';
import type { RecordPool } from '../src/transit/record-pool.js';
import { RECORD_WORKER_SOURCE } from '../src/transit/record-worker-source.js';
import { runRecordJob } from '../src/transit/record-worker.js';

const tk = transitKey(new Uint8Array(randomBytes(32)));
const sender = recordKeys(tk, 'sender');
const receiver = recordKeys(tk, 'receiver');

/** The generated script in a fresh context, as a Worker would run it. */
function scriptWorker(): (job: RecordJob) => RecordJobResult {
  let posted: RecordJobResult | undefined;
  const scope: { onmessage?: (e: { data: RecordJob }) => void; postMessage: (m: RecordJobResult) => void } = {
    postMessage: (m) => void (posted = m),
  };
  runInNewContext(RECORD_WORKER_SOURCE, scope);
  return (job) => {
    scope.onmessage!({ data: job });
    // Bytes from the script's realm, as a structured clone would bring them back.
    return { id: posted!.id, out: posted!.out.map((o) => o && new Uint8Array(o)) };
  };
}

/** A pool that finishes jobs in a scrambled order, on this thread. */
function scrambledPool(): RecordPool & { runs: number } {
  let n = 0;
  return {
    runs: 0,
    async run(op, key, index, items) {
      this.runs++;
      for (let i = 0; i < (n++ * 7) % 5; i++) await Promise.resolve();
      return runRecordJob({ id: 0, op, key, index, items }).out;
    },
    release() {
      // nothing held
    },
  };
}

function pipe(keys: RecordKeys, pool: RecordPool, wire: Uint8Array[] = []) {
  let c!: ReadableStreamDefaultController<Uint8Array>;
  const incoming = new ReadableStream<Uint8Array>({ start: (x) => void (c = x) });
  const outgoing = new WritableStream<Uint8Array>({ write: (f) => void wire.push(f) });
  let closed = 0;
  const init = {
    pool,
    keys,
    decoder: new RecordDecoder(keys.receive),
    encoder: new RecordEncoder(keys.send),
    reader: incoming.getReader(),
    writer: outgoing.getWriter(),
    leftover: new Uint8Array(0),
    close: () => void closed++,
  };
  return { readable: pooledReadable(init), writable: pooledWritable(init), feed: c, wire, closed: () => closed };
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of readable as unknown as AsyncIterable<Uint8Array>) out.push(r);
  return out;
}

describe('record worker', () => {
  it('record-worker-source.ts is what scripts/record-worker.ts generates', async () => {
    const file = readFileSync(new URL('../src/transit/record-worker-source.ts', import.meta.url), 'utf8');
    expect(await recordWorkerModule()).toBe(file);
  }, 30_000);

  it('the bundled script seals and opens as RecordEncoder/RecordDecoder do', () => {
    const run = scriptWorker();
    const enc = new RecordEncoder(sender.send);
    const dec = new RecordDecoder(receiver.receive);
    const plaintexts = [0, 1, 16_384, 65_536].map((n) => new Uint8Array(randomBytes(n)));
    const frames = run({ id: 1, op: 'seal', key: sender.send, index: 0, items: plaintexts.map((p) => p.slice()) }).out;
    expect(frames.map((f) => toHex(f!))).toEqual(plaintexts.map((p) => toHex(enc.encode(p))));
    const sealed = frames.flatMap((f) => dec.pushSealed(f!));
    const opened = run({ id: 2, op: 'open', key: receiver.receive, index: 0, items: sealed.map((r) => r.box.slice()) }).out;
    expect(opened.map((o) => toHex(o!))).toEqual(plaintexts.map((p) => toHex(p)));
    sealed[2]!.box[0]! ^= 1;
    const tampered = run({ id: 3, op: 'open', key: receiver.receive, index: 0, items: sealed.map((r) => r.box.slice()) }).out;
    expect(tampered.map((o) => o === null)).toEqual([false, false, true, false]);
  });
});

describe('pooled record streams', () => {
  it('records sealed and opened out of order arrive in order, byte for byte', async () => {
    const plaintexts = Array.from({ length: 40 }, (_, i) => new Uint8Array(randomBytes(i * 97)));
    const a = pipe(sender, scrambledPool());
    const w = a.writable.getWriter();
    for (const p of plaintexts) await w.write(p);
    await w.close();
    const reference = new RecordEncoder(sender.send);
    expect(a.wire.map((f) => toHex(f))).toEqual(plaintexts.map((p) => toHex(reference.encode(p))));

    const b = pipe(receiver, scrambledPool());
    const wire = Buffer.concat(a.wire);
    for (let at = 0; at < wire.length; at += 5_000) b.feed.enqueue(new Uint8Array(wire.subarray(at, at + 5_000)));
    b.feed.close();
    expect((await readAll(b.readable)).map((r) => toHex(r))).toEqual(plaintexts.map((p) => toHex(p)));
  });

  it('a record that fails its MAC errors the readable with RemoteProtocol and closes the connection', async () => {
    const frames = [1, 2, 3].map((n) => new Uint8Array(n * 100));
    const enc = new RecordEncoder(sender.send);
    const wire = frames.map((f) => enc.encode(f));
    wire[1]![wire[1]!.length - 1]! ^= 1;
    const b = pipe(receiver, scrambledPool());
    for (const f of wire) b.feed.enqueue(f);
    await expect(readAll(b.readable)).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringContaining('record 1 failed authentication') });
    expect(b.closed()).toBeGreaterThan(0);
  });

  it('the connection ending mid-record is TransferFailed', async () => {
    const frame = new RecordEncoder(sender.send).encode(new Uint8Array(50));
    const b = pipe(receiver, scrambledPool());
    b.feed.enqueue(frame.subarray(0, 30));
    b.feed.close();
    await expect(readAll(b.readable)).rejects.toMatchObject({ code: 'TransferFailed' });
  });
});
