// The connection contract on the in-memory connector (mux-v1 over an
// in-memory pipe), plus the mux-v1 frame codec and the connector contract's
// negotiation through a signalling pair.
import { describe, expect, it } from 'vitest';
import { MuxConnection, type Connection } from '@burrow/client';
import { MemoryHub, memoryConnectionPair, memoryConnector, memoryPipePair } from '@burrow/client/testing';
import { MUX_INITIAL_WINDOW, MUX_MAX_DATA, decodeMuxFrame, encodeMuxFrame, isWormholeError } from '@burrow/protocol';
import { connectionCompliance, signallingPair } from './connection-compliance.js';

const key = new Uint8Array(32).fill(7);
const deriveKey = async () => key;

connectionCompliance('in-memory pair', async () => memoryConnectionPair(), { kind: 'direct' });

connectionCompliance(
  'memory connector (contract negotiation)',
  async () => {
    const hub = new MemoryHub();
    const [sa, sb] = signallingPair();
    const c = memoryConnector({ hub });
    return (await Promise.all([
      c.connect({ role: 'leader', signalling: sa, deriveKey }),
      c.connect({ role: 'follower', signalling: sb, deriveKey }),
    ])) as [Connection, Connection];
  },
  { kind: 'direct' },
);

describe('mux-v1 frames', () => {
  it('round-trips every frame type', () => {
    const frames = [
      { type: 'data', id: 1, data: new Uint8Array([1, 2, 3]) },
      { type: 'open', id: 2 },
      { type: 'fin', id: 3 },
      { type: 'reset', id: 4, reason: 'bye ✓' },
      { type: 'stop', id: 5, reason: '' },
      { type: 'credit', id: 6, increment: 65536 },
      { type: 'ping', nonce: 42 },
      { type: 'pong', nonce: 42 },
      { type: 'goaway', reason: 'done' },
    ] as const;
    for (const f of frames) expect(decodeMuxFrame(encodeMuxFrame(f))).toEqual(f);
  });

  it('has a fixed layout: type, u32 big-endian id, body', () => {
    expect([...encodeMuxFrame({ type: 'credit', id: 0x01020304, increment: 0x10 })]).toEqual([5, 1, 2, 3, 4, 0, 0, 0, 0x10]);
    expect([...encodeMuxFrame({ type: 'data', id: 1, data: new Uint8Array([9]) })]).toEqual([0, 0, 0, 0, 1, 9]);
  });

  it('ignores unknown types and rejects malformed known ones', () => {
    expect(decodeMuxFrame(new Uint8Array([0x7f, 0, 0, 0, 1, 1, 2]))).toEqual({ type: 'unknown', code: 0x7f });
    const bad = [
      new Uint8Array([0, 0, 0]), // short
      new Uint8Array([0, 0, 0, 0, 1]), // empty DATA
      new Uint8Array([0, 0, 0, 0, 0, 1]), // DATA on stream 0
      new Uint8Array([5, 0, 0, 0, 1, 0, 0, 0, 0]), // CREDIT 0
      new Uint8Array([1, 0, 0, 0, 1, 9]), // OPEN with a body
    ];
    for (const b of bad) expect(() => decodeMuxFrame(b)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    expect(() => encodeMuxFrame({ type: 'data', id: 1, data: new Uint8Array(MUX_MAX_DATA + 1) })).toThrow(RangeError);
  });
});

describe('mux-v1 connection', () => {
  const rawPeer = () => {
    const [p1, p2] = memoryPipePair();
    const conn = new MuxConnection({ pipe: p1, role: 'follower', kind: 'direct', path: 'memory' });
    return { conn, raw: p2.writable.getWriter() };
  };

  it('fails the connection when the peer sends beyond its credit', async () => {
    const { conn, raw } = rawPeer();
    await raw.write(encodeMuxFrame({ type: 'open', id: 1 }));
    const chunk = new Uint8Array(MUX_MAX_DATA);
    for (let sent = 0; sent <= MUX_INITIAL_WINDOW; sent += chunk.length) await raw.write(encodeMuxFrame({ type: 'data', id: 1, data: chunk }));
    const err = await conn.closed.then(() => undefined, (e: unknown) => e);
    expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
    expect((err as Error).message).toMatch(/beyond its credit/);
  });

  it('fails the connection on data for a stream that was never opened, or opened by the wrong side', async () => {
    for (const frames of [[encodeMuxFrame({ type: 'data', id: 7, data: new Uint8Array(1) })], [encodeMuxFrame({ type: 'open', id: 2 })]]) {
      const { conn, raw } = rawPeer();
      for (const f of frames) await raw.write(f);
      const err = await conn.closed.then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err, 'RemoteProtocol')).toBe(true);
    }
  });

  it('ignores unknown frame types', async () => {
    const { conn, raw } = rawPeer();
    await raw.write(new Uint8Array([0x42, 0, 0, 0, 0, 1, 2, 3]));
    await raw.write(encodeMuxFrame({ type: 'open', id: 1 }));
    await raw.write(encodeMuxFrame({ type: 'data', id: 1, data: new Uint8Array([104, 105]) }));
    await raw.write(encodeMuxFrame({ type: 'fin', id: 1 }));
    const r = await conn.incoming[Symbol.asyncIterator]().next();
    const chunks: Uint8Array[] = [];
    for await (const c of r.value!.readable as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(new TextDecoder().decode(chunks[0])).toBe('hi');
    await conn.close();
  });

  it('a lost pipe fails both ends once, with Connection', async () => {
    const [a, b] = memoryConnectionPair();
    const s = await a.openStream();
    const read = s.readable.getReader().read();
    (a as unknown as { release(): void }).release(); // tear the pipe down without a goodbye
    const err = await b.closed.then(() => undefined, (e: unknown) => e);
    expect(isWormholeError(err, 'Connection')).toBe(true);
    await expect(read).rejects.toMatchObject({ code: 'Connection' });
  });
});
