// Burrow ↔ Burrow directory transfer with no sockets, and zip planning (set-up in support/memory-transfer.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { receiveOffer, sendDirectory } from '../src/index.js';
import { concatBytes, utf8 } from '@burrow/protocol';
import { SPOOL_BYTES, planZip, writeZip, type ZipPlan } from '../src/transfer/zip.js';
import { MemoryDirSink, MemoryNet, closePairs, pair, streamOf } from './support/memory-transfer.js';

afterEach(closePairs);

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
    expect(offer).toMatchObject({ type: 'directory', name: 'proj', numFiles: 5, numBytes: 40_000 + 10 + 3 });
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

