// Burrow ↔ Burrow file and text transfer with no sockets (set-up in support/memory-transfer.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { isWormholeError, receiveOffer, sendFile, type TransferProgress } from '../src/index.js';
import { MemoryNet, closePairs, memoryFileSink, pair, payload, sha, streamOf } from './support/memory-transfer.js';

afterEach(closePairs);

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

