// files-v1 Burrow ↔ Burrow with no sockets: the in-memory mailbox, and
// w.connect() falling to mux-v1 over an in-memory "TCP" (no WebRTC here;
// WebRTC runs in the interop and browser tests).
import { afterEach, describe, expect, it } from 'vitest';
import { receiveOffer, sendFiles, type FilesProgress, type FilesResult, type Wormhole } from '../src/index.js';
import { MemoryNet, closePairs, pair, payload, sha, streamOf } from './support/memory-transfer.js';
import { MemoryFilesSink } from './support/memory-files-sink.js';

afterEach(closePairs);

const small = new TextEncoder().encode('hello, files-v1\n');
const file = (path: string, data: Uint8Array) => ({ name: path.split('/').pop()!, path, size: data.length, stream: () => streamOf(data, 65536) });

/** connect() options: no WebRTC, direct in-memory TCP both ways. */
function connectOver(net: MemoryNet, host: string) {
  return { connect: { relay: { dialers: { tcp: net.tcp }, listen: net.listen([host]) } } };
}

/** Run `after` each time a file has been given its final name (before the receiver's ok leaves). */
function afterCommit(sink: MemoryFilesSink, after: (path: string) => void): void {
  const open = sink.open.bind(sink);
  sink.open = async (f) => {
    const partial = await open(f);
    return {
      ...partial,
      commit: async () => {
        await partial.commit();
        after(f.path);
      },
    };
  };
}

async function offerFor(b: Wormhole, net: MemoryNet) {
  const offer = await receiveOffer(b, connectOver(net, '10.0.0.2'));
  if (offer.type !== 'files') throw new Error(`expected a files offer, got ${offer.type}`);
  return offer;
}

describe('files-v1 between Burrow peers', () => {
  it('several files, a folder and an empty directory in one offer; checksums and progress agree', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const progress: FilesProgress[] = [];
    const folder = {
      name: 'album',
      entries: [
        { path: 'x/one.bin', type: 'file' as const, size: 1000, open: () => streamOf(payload.subarray(0, 1000)) },
        { path: 'x', type: 'directory' as const },
        { path: 'empty', type: 'directory' as const },
      ],
    };
    const sending = sendFiles(a, [file('big.bin', payload), file('notes/hello.txt', small), folder], { ...connectOver(net, '10.0.0.1'), progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
    const offer = await offerFor(b, net);
    expect(offer.files.map((f) => [f.path, f.size])).toEqual([
      ['big.bin', payload.length],
      ['notes/hello.txt', small.length],
      ['album/x/one.bin', 1000],
    ]);
    // Only the directory that holds nothing travels as an entry.
    expect(offer.directories).toEqual(['album/empty']);
    expect(offer.bytes).toBe(payload.length + small.length + 1000);
    const sink = new MemoryFilesSink();
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { concurrency: 2 })])) as [FilesResult, FilesResult];
    expect(sha(sink.files.get('big.bin')!)).toBe(sha(payload));
    expect(sink.files.get('notes/hello.txt')).toEqual(small);
    expect(sink.files.get('album/x/one.bin')).toEqual(payload.subarray(0, 1000));
    expect([...sink.dirs]).toEqual(['album/empty']);
    expect(sink.partials.size).toBe(0);
    expect(got.files.map((f) => f.sha256)).toEqual(sent.files.map((f) => f.sha256));
    expect(got.files[0]!.sha256).toBe(sha(payload));
    expect(got).toMatchObject({ via: 'direct', moved: offer.bytes, bytes: offer.bytes, reconnects: 0 });
    expect(sent).toMatchObject({ via: 'direct', moved: offer.bytes, bytes: offer.bytes });
    expect(progress.at(-1)).toMatchObject({ bytes: offer.bytes, total: offer.bytes, filesDone: 3, files: 3, done: true });
  });

  it('the receiver takes some files; the sender reports those', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFiles(a, [file('a.txt', small), file('b.bin', payload.subarray(0, 5000))], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { select: (f) => f.path === 'a.txt' })])) as [FilesResult, FilesResult];
    expect([...sink.files.keys()]).toEqual(['a.txt']);
    expect(sent.files.map((f) => f.path)).toEqual(['a.txt']);
    expect(got.bytes).toBe(small.length);
  });

  it('a refusal reaches the sender as Rejected', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFiles(a, [file('a.txt', small)], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    await offer.reject('not now');
    await expect(sending).rejects.toMatchObject({ code: 'Rejected', message: expect.stringContaining('not now') });
  });

  it('resumes from a partial the receiver kept: only the rest moves, and the prefix was proven', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const half = Math.floor(payload.length / 2);
    const sending = sendFiles(a, [file('big.bin', payload), file('s.txt', small)], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    sink.partials.set('big.bin', payload.slice(0, half));
    const [sent, got] = (await Promise.all([sending, offer.accept(sink)])) as [FilesResult, FilesResult];
    expect(sha(sink.files.get('big.bin')!)).toBe(sha(payload));
    expect(got.files[0]).toMatchObject({ path: 'big.bin', resumedFrom: half });
    expect(sent.files[0]).toMatchObject({ path: 'big.bin', resumedFrom: half });
    expect(got.moved).toBe(payload.length - half + small.length);
    expect(sink.log).toContain(`write big.bin from ${half}`);
  });

  it('a corrupted partial is detected by its prefix hash and only that file restarts', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const half = Math.floor(payload.length / 2);
    const sending = sendFiles(a, [file('big.bin', payload), file('s.txt', small)], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    const bad = payload.slice(0, half);
    bad[1234] = bad[1234]! ^ 0xff;
    sink.partials.set('big.bin', bad);
    sink.partials.set('s.txt', small.slice(0, 5));
    const got = (await offer.accept(sink)) as FilesResult;
    await sending;
    expect(sha(sink.files.get('big.bin')!)).toBe(sha(payload));
    expect(got.files.map((f) => f.resumedFrom)).toEqual([0, 5]);
    expect(sink.log).toContain('write big.bin from 0');
    expect(got.moved).toBe(payload.length + small.length - 5);
  });

  it('a dropped connection mid-transfer is re-established within the code; no byte lost or duplicated', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const big = Uint8Array.from({ length: 8_000_000 }, (_, i) => (i * 7 + (i >> 10)) & 255);
    let cut = false;
    const sending = sendFiles(a, [file('big.bin', big)], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    const got = (await offer.accept(sink, {
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (!cut && p.bytes > big.length / 3) {
          cut = true;
          net.cut();
        }
      },
    })) as FilesResult;
    const sent = (await sending) as FilesResult;
    expect(cut).toBe(true);
    expect(sha(sink.files.get('big.bin')!)).toBe(sha(big));
    expect(got.reconnects).toBe(1);
    expect(sent.reconnects).toBe(1);
    expect(got.files[0]!.resumedFrom).toBeGreaterThan(0);
    // Only what was not yet written crossed the second connection.
    expect(got.moved).toBe(big.length);
  });

  it('an ok lost with the connection: the receiver names its committed files on resume, and both agree', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const seen: string[] = [];
    const sending = sendFiles(a, [file('first.bin', payload.subarray(0, 200_000)), file('second.bin', payload)], { ...connectOver(net, '10.0.0.1'), onConnection: (c) => seen.push(`a:${c.kind}`) });
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    let cut = false;
    // The path dies right after first.bin got its final name, before its ok can leave.
    afterCommit(sink, (path) => {
      if (path !== 'first.bin') return;
      cut = true;
      net.cut();
    });
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { concurrency: 1, onConnection: (c) => seen.push(`b:${c.kind}`) })])) as [FilesResult, FilesResult];
    expect(cut).toBe(true);
    expect(got.reconnects).toBe(1);
    expect(sent.files.map((f) => f.path)).toEqual(['first.bin', 'second.bin']);
    expect(sent.files.map((f) => f.sha256)).toEqual(got.files.map((f) => f.sha256));
    expect(sha(sink.files.get('second.bin')!)).toBe(sha(payload));
    expect(seen.sort()).toEqual(['a:direct', 'a:direct', 'b:direct', 'b:direct']);
  });

  it('the connection lost after every ok but before done: both finish, neither reconnects', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    let cut = false;
    // The sender has every file's ok: the path dies under the receiver's done.
    const onProgress = (p: FilesProgress) => {
      if (!cut && p.filesDone === p.files) {
        cut = true;
        net.cut();
      }
    };
    const sending = sendFiles(a, [file('one.bin', payload.subarray(0, 100_000)), file('two.bin', small)], { ...connectOver(net, '10.0.0.1'), progressIntervalMs: 0, onProgress, reconnects: 1, stallTimeoutMs: 2000 });
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { reconnects: 1, stallTimeoutMs: 2000 })])) as [FilesResult, FilesResult];
    expect(cut).toBe(true);
    expect(sent).toMatchObject({ reconnects: 0, moved: 100_000 + small.length });
    expect(got).toMatchObject({ reconnects: 0, moved: 100_000 + small.length });
    expect(sent.files.map((f) => f.sha256)).toEqual(got.files.map((f) => f.sha256));
    expect(sink.files.get('two.bin')).toEqual(small);
  });

  it('the last ok and done lost on a path that went silent: the receiver gives the sender a resume to hear them on', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const options = { stallTimeoutMs: 800, reconnects: 2 };
    const sending = sendFiles(a, [file('one.bin', payload.subarray(0, 50_000)), file('two.bin', small)], { ...connectOver(net, '10.0.0.1'), ...options });
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    let silenced = false;
    // Once both files have their final names, nothing more gets through: not the last ok, not done.
    afterCommit(sink, () => {
      if (sink.files.size < 2) return;
      silenced = true;
      net.blackhole();
    });
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { ...options, concurrency: 1 })])) as [FilesResult, FilesResult];
    expect(silenced).toBe(true);
    expect(sent.reconnects).toBe(1);
    expect(got.reconnects).toBe(1);
    expect(sent.files.map((f) => f.sha256)).toEqual(got.files.map((f) => f.sha256));
    expect(sink.files.get('two.bin')).toEqual(small);
  });

  it('a file source that stops producing does not hold a cancel: sendFiles settles with Aborted', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const stop = new AbortController();
    let pulled = 0;
    // 64 KiB, then nothing ever again (a stalled user stream).
    const stalled = () => new ReadableStream<Uint8Array>({ pull: (c) => (pulled++ === 0 ? c.enqueue(new Uint8Array(65536)) : new Promise<void>(() => undefined)) }, { highWaterMark: 0 });
    const sending = sendFiles(a, [{ name: 'slow.bin', size: 1_000_000, stream: stalled }], { ...connectOver(net, '10.0.0.1'), signal: stop.signal });
    const offer = await offerFor(b, net);
    const receiving = offer.accept(new MemoryFilesSink(), { progressIntervalMs: 0, onProgress: (p) => p.bytes >= 65536 && stop.abort() });
    receiving.catch(() => undefined);
    await expect(sending).rejects.toMatchObject({ code: 'Aborted' });
  });

  it('a source shorter than it said: the sender fails with TransferFailed, the receiver is told, nothing gets a final name', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const sending = sendFiles(a, [{ name: 'short.bin', size: 100_000, stream: () => streamOf(payload.subarray(0, 60_000)) }], connectOver(net, '10.0.0.1'));
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    const receiving = offer.accept(sink, { reconnects: 1 });
    await expect(sending).rejects.toMatchObject({ code: 'TransferFailed', message: expect.stringContaining('ended after 60000 of 100000 bytes') });
    await expect(receiving).rejects.toMatchObject({ code: 'Rejected', message: expect.stringContaining('ended after 60000') });
    expect(sink.files.size).toBe(0);
  });

  it('a long prefix to hash on either side: busy frames keep the peer\'s stall watchdog quiet, no reconnect', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const half = 1_500_000;
    // Both prefixes come 100 kB per 100 ms: ~1.5 s of hashing on each side against a 600 ms stall bound.
    const slowly = (data: Uint8Array, slowBytes: number) => {
      let at = 0;
      return new ReadableStream<Uint8Array>(
        {
          async pull(c) {
            if (at >= data.length) return c.close();
            const n = at < slowBytes ? Math.min(100_000, slowBytes - at) : 65536;
            if (at < slowBytes) await new Promise((r) => setTimeout(r, 100));
            c.enqueue(data.slice(at, at + n));
            at += n;
          },
        },
        { highWaterMark: 0 },
      );
    };
    const options = { ...connectOver(net, '10.0.0.1'), stallTimeoutMs: 600, reconnects: 0 };
    const sending = sendFiles(a, [{ name: 'big.bin', size: payload.length, stream: () => slowly(payload, half) }], options);
    const offer = await offerFor(b, net);
    const sink = new MemoryFilesSink();
    sink.partials.set('big.bin', payload.slice(0, half));
    const open = sink.open.bind(sink);
    sink.open = async (f) => ({ ...(await open(f)), readHeld: () => slowly(payload.subarray(0, half), half) });
    const [sent, got] = (await Promise.all([sending, offer.accept(sink, { stallTimeoutMs: 600, reconnects: 0 })])) as [FilesResult, FilesResult];
    expect(got).toMatchObject({ reconnects: 0, moved: payload.length - half });
    expect(sent).toMatchObject({ reconnects: 0 });
    expect(got.files[0]).toMatchObject({ resumedFrom: half, sha256: sha(payload) });
    expect(sha(sink.files.get('big.bin')!)).toBe(sha(payload));
  });
});
