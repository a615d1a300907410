// The client's half of reading a zip: fflate finds where a deflate stream
// ends (pinned here against the installed fflate, whose internals say it),
// and the ZipExtractor drives the protocol's reader into a DirectorySink in
// any chunking, refusing what disagrees.
import { deflateRawSync } from 'node:zlib';
import { Inflate } from 'fflate';
import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '@burrow/protocol';
import { ZipExtractor, inflateLeftover } from '../src/transfer/zip-extract.js';
import type { DirectorySink } from '../src/index.js';
import { descriptorTree, pythonStreamedZip } from './support/zip-sender.js';

describe('inflateLeftover (fflate internals)', () => {
  const inputs = [new Uint8Array(0), utf8('x'), utf8('abc'.repeat(10_000)), Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24)];
  const trailer = utf8('PK\x07\x08 and whatever follows');
  for (const [n, data] of inputs.entries()) {
    it(`finds the end of deflate stream #${n} in any slicing, and counts what follows`, () => {
      const deflated = new Uint8Array(deflateRawSync(data));
      const all = concatBytes(deflated, trailer);
      for (const slice of [1, 3, 1024, all.length]) {
        const out: Uint8Array[] = [];
        const inflate = new Inflate((d) => void out.push(d));
        let end: number | undefined;
        for (let off = 0; off < all.length && end === undefined; off += slice) {
          const piece = all.subarray(off, off + slice);
          inflate.push(piece, false);
          const left = inflateLeftover(inflate);
          if (left !== undefined) end = off + piece.length - left;
        }
        expect(end, `slice ${slice}`).toBe(deflated.length);
        expect(Buffer.compare(concatBytes(...out), data)).toBe(0);
      }
    });
  }
});

class MemoryDirSink implements DirectorySink {
  readonly files = new Map<string, Uint8Array[]>();
  readonly dirs = new Set<string>();
  readonly modes = new Map<string, number>();
  state = 'open';
  async mkdir(s: readonly string[]) {
    this.dirs.add(s.join('/'));
  }
  async createFile(s: readonly string[]) {
    const parts: Uint8Array[] = [];
    this.files.set(s.join('/'), parts);
    return new WritableStream<Uint8Array>({ write: (c) => void parts.push(c.slice()) });
  }
  async chmod(s: readonly string[], mode: number) {
    this.modes.set(s.join('/'), mode);
  }
  async commit() {
    this.state = 'committed';
  }
  async abort() {
    this.state = 'aborted';
  }
}

describe('ZipExtractor with data descriptors', () => {
  const tree = descriptorTree();
  const zip = pythonStreamedZip(tree);
  const numbytes = tree.reduce((n, e) => n + (e.data?.length ?? 0), 0);
  const numfiles = tree.filter((e) => !e.name.endsWith('/')).length;

  for (const step of [1, 7, 1000, 65_536]) {
    it(`unpacks a streamed zip in ${step}-byte records`, async () => {
      const sink = new MemoryDirSink();
      const x = new ZipExtractor(sink, { numbytes, numfiles });
      for (let i = 0; i < zip.length; i += step) await x.push(zip.subarray(i, i + step));
      await x.finish();
      for (const e of tree.filter((t) => !t.name.endsWith('/'))) {
        expect(Buffer.compare(Buffer.concat(sink.files.get(e.name)!), e.data!), e.name).toBe(0);
      }
      expect([...sink.dirs].sort()).toEqual(['a', 'a/b', 'a/b/c', 'ünïcödé ✓']);
      expect(sink.modes.get('a/b/c/deep.txt')).toBe(0o600);
      expect(sink.modes.get('a')).toBe(0o750);
    }, 30_000);
  }

  it('counts unpacked bytes against the offer when no header states a size (zip bomb)', async () => {
    const x = new ZipExtractor(new MemoryDirSink(), { numbytes: numbytes - 1, numfiles });
    const run = async () => {
      for (let i = 0; i < zip.length; i += 4096) await x.push(zip.subarray(i, i + 4096));
      await x.finish();
    };
    await expect(run()).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringMatching(/zip bomb/) });
  });
});
