import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordDecoder, RecordEncoder, recordKey } from '@burrow/protocol';
import { batchedRecordWritable } from '../src/transit/record-batch.js';

const key = recordKey(new Uint8Array(32).fill(7));

/** A channel `send` whose sends the test completes by hand; it checks that no sent buffer changes before its send is done. */
function manualSend() {
  const sends: { chunk: Uint8Array; copy: Uint8Array; done(): void; fail(e: Error): void }[] = [];
  const wire: Uint8Array[] = [];
  const send = (chunk: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const copy = chunk.slice();
      sends.push({
        chunk,
        copy,
        done: () => {
          expect(Buffer.compare(chunk, copy)).toBe(0);
          wire.push(copy);
          resolve();
        },
        fail: reject,
      });
    });
  return { send, sends, wire };
}

const closedWriter = () => new WritableStream<Uint8Array>().getWriter();

describe('batchedRecordWritable', () => {
  it('sends the same bytes as one record per write, a lone record at once, the rest in batches while a send is out', async () => {
    const { send, sends, wire } = manualSend();
    let closed = 0;
    const writable = batchedRecordWritable({ encoder: new RecordEncoder(key), send, writer: closedWriter(), close: () => void closed++ });
    const w = writable.getWriter();
    const records = [0, 1, 100, 65_536, 65_536, 3, 2_000_000, 65_536, ...Array.from({ length: 40 }, () => 65_536), 17].map(
      (n) => new Uint8Array(randomBytes(n)),
    );
    await w.write(records[0]!);
    expect(sends.length).toBe(1); // nothing was in flight: sent at once
    const writes = records.slice(1).map((r) => w.write(r));
    // Complete sends as they come until every write is accepted.
    let settled = false;
    const all = Promise.all(writes).then(() => void (settled = true));
    for (let i = 0; !settled && i < 1000; i++) {
      await new Promise((r) => setImmediate(r));
      const next = sends.find((s) => !wire.includes(s.copy));
      next?.done();
    }
    await all;
    const closing = w.close();
    for (let i = 0; i < 100 && sends.some((s) => !wire.includes(s.copy)); i++) {
      sends.find((s) => !wire.includes(s.copy))!.done();
      await new Promise((r) => setImmediate(r));
    }
    await closing;
    expect(sends.length).toBeLessThan(records.length / 2); // batched
    const ref = new RecordEncoder(key);
    expect(Buffer.compare(Buffer.concat(wire), Buffer.concat(records.map((r) => ref.encode(r))))).toBe(0);
    const dec = new RecordDecoder(key);
    expect(dec.push(Buffer.concat(wire)).map((r) => r.length)).toEqual(records.map((r) => r.length));
    expect(closed).toBe(0);
  });

  it('a failed send closes the connection and fails later writes with TransferFailed', async () => {
    const { send, sends } = manualSend();
    let closed = 0;
    const writable = batchedRecordWritable({ encoder: new RecordEncoder(key), send, writer: closedWriter(), close: () => void closed++ });
    const w = writable.getWriter();
    await w.write(new Uint8Array(10));
    sends[0]!.fail(new Error('socket gone'));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(1);
    await expect(w.write(new Uint8Array(10))).rejects.toMatchObject({ code: 'TransferFailed' });
  });
});
