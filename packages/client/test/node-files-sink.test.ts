// nodeFilesSink: partial data next to the destination, resume detection,
// truncate-on-restart, refusals (symlinked parent, existing final name) and
// an atomic commit that never shows a partial under the final name.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OfferedFile } from '@burrow/protocol/files';
import { nodeFilesSink, partialName } from '../src/node/files-sink.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'burrow-files-sink-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function offered(path: string, size: number, extra: Partial<OfferedFile> = {}): OfferedFile {
  return { index: 0, path, segments: path.split('/'), size, ...extra };
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

async function writeAll(stream: WritableStream<Uint8Array>, data: Uint8Array, chunk = 1000): Promise<void> {
  const w = stream.getWriter();
  for (let off = 0; off < data.length; off += chunk) await w.write(data.slice(off, off + chunk));
  await w.close();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

describe('nodeFilesSink', () => {
  it('writes a partial next to the destination, never under the final name, and commits it', async () => {
    const data = bytes(300_000);
    const sink = nodeFilesSink(dir);
    const file = await sink.open(offered('a/b.txt', data.length));
    expect(file.held).toBe(0);
    const w = (await file.write(0)).getWriter();
    await w.write(data.slice(0, 100_000));
    // Mid-transfer: only the hidden partial exists.
    expect(readdirSync(join(dir, 'a'))).toEqual([partialName('b.txt', data.length)]);
    expect(partialName('b.txt', data.length)).toBe(`.b.txt.${data.length}.burrow-partial`);
    await w.write(data.slice(100_000));
    await w.close();
    expect(existsSync(join(dir, 'a/b.txt'))).toBe(false);
    await file.commit();
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.txt']);
    expect(new Uint8Array(readFileSync(join(dir, 'a/b.txt')))).toEqual(data);
  });

  it('finds what an earlier attempt kept (same path and size) and resumes after it', async () => {
    const data = bytes(50_000, 7);
    const first = await nodeFilesSink(dir).open(offered('x.bin', data.length));
    const w = (await first.write(0)).getWriter();
    await w.write(data.slice(0, 20_000));
    await w.abort(new Error('killed'));

    // A new sink (a new run, a new code) sees the 20 000 bytes and proves them.
    const again = await nodeFilesSink(dir).open(offered('x.bin', data.length));
    expect(again.held).toBe(20_000);
    expect(await readAll(again.readHeld())).toEqual(data.slice(0, 20_000));
    await writeAll(await again.write(20_000), data.slice(20_000));
    await again.commit();
    expect(new Uint8Array(readFileSync(join(dir, 'x.bin')))).toEqual(data);
    // Another size under the same name is another file: no resume.
    expect((await nodeFilesSink(dir).open(offered('y.bin', 10))).held).toBe(0);
  });

  it('truncates to `from` on restart (a prefix that did not match)', async () => {
    writeFileSync(join(dir, partialName('r.bin', 100)), bytes(60, 9));
    const file = await nodeFilesSink(dir).open(offered('r.bin', 100));
    expect(file.held).toBe(60);
    const data = bytes(100, 3);
    await writeAll(await file.write(0), data.slice(0, 10));
    expect(statSync(join(dir, partialName('r.bin', 100))).size).toBe(10);
    const resumed = await nodeFilesSink(dir).open(offered('r.bin', 100));
    expect(resumed.held).toBe(10);
    await writeAll(await resumed.write(10), data.slice(10));
    await resumed.commit();
    expect(new Uint8Array(readFileSync(join(dir, 'r.bin')))).toEqual(data);
  });

  it('truncates a partial longer than the file to 0', async () => {
    writeFileSync(join(dir, partialName('long.bin', 10)), bytes(50));
    const file = await nodeFilesSink(dir).open(offered('long.bin', 10));
    expect(file.held).toBe(0);
    expect(existsSync(join(dir, partialName('long.bin', 10)))).toBe(false);
    await expect(file.write(5)).rejects.toThrow(RangeError);
  });

  it('refuses a parent that is a symlink (out of dir) or a file', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'burrow-outside-'));
    try {
      symlinkSync(outside, join(dir, 'link'));
      writeFileSync(join(dir, 'plain'), 'x');
      const sink = nodeFilesSink(dir);
      await expect(sink.open(offered('link/evil.txt', 3))).rejects.toMatchObject({ code: 'Usage', message: expect.stringContaining("'link'") });
      await expect(sink.open(offered('plain/f.txt', 3))).rejects.toMatchObject({ code: 'Usage', message: expect.stringContaining("'plain'") });
      await expect(sink.mkdir(['link', 'sub'])).rejects.toMatchObject({ code: 'Usage' });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses an existing final name, at open and at commit, naming the path; overwrite allows it', async () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd/taken.txt'), 'mine');
    await expect(nodeFilesSink(dir).open(offered('d/taken.txt', 10))).rejects.toMatchObject({ code: 'Usage', message: expect.stringContaining("'d/taken.txt'") });

    // Appears during the transfer: commit refuses and keeps both.
    const file = await nodeFilesSink(dir).open(offered('d/late.txt', 3));
    await writeAll(await file.write(0), bytes(3));
    writeFileSync(join(dir, 'd/late.txt'), 'other');
    await expect(file.commit()).rejects.toMatchObject({ code: 'Usage', message: expect.stringContaining("'d/late.txt'") });
    expect(readFileSync(join(dir, 'd/late.txt'), 'utf8')).toBe('other');

    const sink = nodeFilesSink(dir, { overwrite: true });
    const over = await sink.open(offered('d/taken.txt', 3));
    await writeAll(await over.write(0), bytes(3));
    await over.commit();
    expect(new Uint8Array(readFileSync(join(dir, 'd/taken.txt')))).toEqual(bytes(3));
  });

  it('reports a file already complete under its final name as held, and leaves it in place', async () => {
    writeFileSync(join(dir, 'done.bin'), bytes(40));
    const file = await nodeFilesSink(dir).open(offered('done.bin', 40));
    expect(file.held).toBe(40);
    expect(await readAll(file.readHeld())).toEqual(bytes(40));
    await (await file.write(40)).close();
    await file.commit();
    // A mismatch (restart from 0) does not replace it.
    await expect(file.write(0)).rejects.toMatchObject({ code: 'Usage' });
    await file.discard();
    expect(new Uint8Array(readFileSync(join(dir, 'done.bin')))).toEqual(bytes(40));
  });

  it('applies permission bits (masked, no setuid) and discards a partial', async () => {
    const file = await nodeFilesSink(dir).open(offered('run.sh', 2, { mode: 0o4755 }));
    await writeAll(await file.write(0), bytes(2));
    await file.commit();
    expect(statSync(join(dir, 'run.sh')).mode & 0o7777).toBe(0o755);

    const bad = await nodeFilesSink(dir).open(offered('bad.bin', 5));
    await writeAll(await bad.write(0), bytes(5));
    await bad.discard();
    expect(readdirSync(dir).sort()).toEqual(['run.sh']);
  });

  it('creates empty directories', async () => {
    const sink = nodeFilesSink(join(dir, 'new'));
    await sink.mkdir(['e', 'f']);
    await sink.mkdir(['e', 'f']);
    expect(statSync(join(dir, 'new/e/f')).isDirectory()).toBe(true);
  });
});
