import { describe, expect, it } from 'vitest';
import { encodeHeader, parseRequest, MAX_HEADER } from '@burrow/protocol/agent';
import { readHeader } from '../src/rpc.js';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
}

async function drain(s: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
  return out;
}

describe('rpc headers on a stream', () => {
  it('read across chunk boundaries and hand over the bytes that follow', async () => {
    const header = encodeHeader({ method: 'forward', params: { to: 'a:1' } });
    const all = new Uint8Array([...header, 1, 2, 3, 4]);
    // Split into 1-byte chunks: the worst case.
    const { header: got, rest } = await readHeader(streamOf([...all].map((b) => new Uint8Array([b]))));
    expect(parseRequest(got)).toEqual({ method: 'forward', params: { to: 'a:1' } });
    expect(await drain(rest)).toEqual([1, 2, 3, 4]);
  });

  it('hand over the bytes that came in the same chunk as the header, then the later chunks', async () => {
    const header = encodeHeader({ method: 'forward', params: {} });
    const { rest } = await readHeader(streamOf([new Uint8Array([...header, 9]), new Uint8Array([8, 7])]));
    expect(await drain(rest)).toEqual([9, 8, 7]);
  });

  it('reject an oversized, truncated or non-JSON header', async () => {
    const big = new Uint8Array(4);
    new DataView(big.buffer).setUint32(0, MAX_HEADER + 1);
    await expect(readHeader(streamOf([big]))).rejects.toMatchObject({ code: 'RemoteProtocol' });
    await expect(readHeader(streamOf([encodeHeader({ method: 'x', params: {} }).subarray(0, 6)]))).rejects.toThrow(/ended inside a header/);
    await expect(readHeader(streamOf([new Uint8Array([0, 0, 0, 1, 0x7b])]))).rejects.toThrow(/not JSON/);
  });
});
