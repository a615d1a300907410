// mux-v1 DATA frames built into reused buffers: the same bytes as
// encodeMuxFrame, and over a pipe that copies what it is given (Transit's
// Node path) the frame buffers are recycled without corrupting the stream.
import { describe, expect, it } from 'vitest';
import { MuxConnection, type MessagePipe } from '@burrow/client';
import { memoryPipePair } from '@burrow/client/testing';
import { MUX_HEADER, MUX_MAX_DATA, encodeMuxDataInto, encodeMuxFrame } from '@burrow/protocol';

describe('encodeMuxDataInto', () => {
  it('writes the bytes encodeMuxFrame returns, into the caller\'s buffer', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const out = new Uint8Array(MUX_HEADER + MUX_MAX_DATA).fill(0xee);
    const n = encodeMuxDataInto(out, 0x01020304, data);
    expect(n).toBe(MUX_HEADER + data.length);
    expect(out.subarray(0, n)).toEqual(encodeMuxFrame({ type: 'data', id: 0x01020304, data }));
  });

  it('refuses empty or oversized data, a bad id and a buffer without room', () => {
    const out = new Uint8Array(MUX_HEADER + MUX_MAX_DATA + 1);
    expect(() => encodeMuxDataInto(out, 1, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeMuxDataInto(out, 1, new Uint8Array(MUX_MAX_DATA + 1))).toThrow(RangeError);
    expect(() => encodeMuxDataInto(out, 0, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeMuxDataInto(new Uint8Array(MUX_HEADER + 9), 1, new Uint8Array(10))).toThrow(RangeError);
  });
});

/** A memory pipe whose writes copy each chunk before they settle, and that records the buffers it was given. */
function copyingPipes(): { pipes: [MessagePipe, MessagePipe]; seen: ArrayBufferLike[] } {
  const [a, b] = memoryPipePair();
  const seen: ArrayBufferLike[] = [];
  const inner = a.writable.getWriter();
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => {
      seen.push(chunk.buffer);
      return inner.write(chunk.slice());
    },
    close: () => inner.close(),
  });
  return { pipes: [{ readable: a.readable, writable, close: a.close, copiesWrites: true }, b], seen };
}

describe('mux-v1 over a pipe that copies writes', () => {
  it('recycles DATA frame buffers and every byte arrives intact', async () => {
    const { pipes, seen } = copyingPipes();
    const a = new MuxConnection({ pipe: pipes[0], role: 'leader', kind: 'direct', path: 'memory' });
    const b = new MuxConnection({ pipe: pipes[1], role: 'follower', kind: 'direct', path: 'memory' });
    const sent = Uint8Array.from({ length: 3 * 1024 * 1024 + 123 }, (_, i) => (i * 31 + (i >> 16)) & 0xff);
    const s = await a.openStream();
    const writing = (async () => {
      const w = s.writable.getWriter();
      // Every chunk its own buffer, overwritten once written: the stream must not hold on to it.
      for (let at = 0; at < sent.length; at += 100_000) {
        const chunk = sent.slice(at, at + 100_000);
        await w.write(chunk);
        chunk.fill(0);
      }
      await w.close();
    })();
    const incoming = await b.incoming[Symbol.asyncIterator]().next();
    const got: Uint8Array[] = [];
    for await (const c of incoming.value!.readable as unknown as AsyncIterable<Uint8Array>) got.push(c.slice());
    await writing;
    expect(Buffer.compare(Buffer.concat(got), sent)).toBe(0);
    const dataFrames = seen.filter((buf) => buf.byteLength === MUX_HEADER + MUX_MAX_DATA);
    expect(dataFrames.length).toBeGreaterThan(40);
    expect(new Set(dataFrames).size).toBeLessThan(10);
    await a.close();
    await b.close();
  });
});
