import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchedWriter, fileSink } from '../src/node/sinks.js';
import { WRITE_BATCH } from '../src/index.js';

describe('batchedWriter (Node file sinks)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes chunks of every size in order from the start offset, with several batches on their way', async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-bw-'));
    const path = join(dir, 'f');
    const prefix = new Uint8Array(randomBytes(1000));
    writeFileSync(path, prefix);
    const fh = await open(path, 'r+');
    // Small batches and a depth of 3, so many writes overlap.
    const out = batchedWriter(fh, prefix.length, 64 * 1024, 3);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) chunks.push(new Uint8Array(randomBytes((i * 7919) % 20_000)));
    for (const c of chunks) await out.write(c);
    await out.flush();
    await fh.close();
    expect(Buffer.compare(readFileSync(path), Buffer.concat([prefix, ...chunks]))).toBe(0);
  });

  it('writeMany takes whole batches of chunks, mixed with single writes, in order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-bw-'));
    const path = join(dir, 'f');
    const fh = await open(path, 'w');
    const out = batchedWriter(fh, 0, 64 * 1024, 2);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) {
      const batch = Array.from({ length: (i % 5) + 1 }, (_, j) => new Uint8Array(randomBytes(((i + 1) * (j + 3) * 911) % 17_000)));
      chunks.push(...batch);
      if (i % 3 === 0) for (const c of batch) await out.write(c);
      else await out.writeMany(batch);
    }
    await out.flush();
    await fh.close();
    expect(Buffer.compare(readFileSync(path), Buffer.concat(chunks))).toBe(0);
  });

  it('with a depth of 1, one write at a time, in order: what a kill leaves is a prefix (files-v1 partials)', async () => {
    let inFlight = 0;
    let most = 0;
    const positions: number[] = [];
    const fake = {
      async writev(list: Uint8Array[], at: number) {
        inFlight++;
        most = Math.max(most, inFlight);
        positions.push(at);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return { bytesWritten: list.reduce((n, c) => n + c.length, 0), buffers: list };
      },
    };
    const out = batchedWriter(fake as unknown as FileHandle, 100, 1000, 1);
    // 41 × 700 bytes: the flush has a part-batch to send while the last full one may still be out.
    for (let i = 0; i < 41; i++) await out.writeMany([new Uint8Array(300), new Uint8Array(400)]);
    await out.flush();
    expect(most).toBe(1);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions[0]).toBe(100);
  });

  it('reports a failed write on a later write or the flush', async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-bw-'));
    const path = join(dir, 'f');
    writeFileSync(path, '');
    const fh = await open(path, 'r'); // read-only: every write fails with EBADF
    const out = batchedWriter(fh, 0, 1024, 2);
    let error: unknown;
    try {
      for (let i = 0; i < 10; i++) await out.write(new Uint8Array(2048));
      await out.flush();
    } catch (err) {
      error = err;
    }
    await fh.close();
    expect(error).toMatchObject({ code: 'EBADF' });
  });
});

describe('fileSink (Node)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('offers a batch writer: batches land in order under a hidden name, close renames, abort removes it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-fs-'));
    const dest = join(dir, 'out.bin');
    const sink = await fileSink(dest);
    const batch = sink[WRITE_BATCH]!;
    const chunks = Array.from({ length: 200 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 7919) % 16_384))));
    for (let i = 0; i < chunks.length; i += 4) await batch.write(chunks.slice(i, i + 4));
    expect(readdirSync(dir).filter((n) => n.endsWith('.burrow-part'))).toHaveLength(1);
    expect(existsSync(dest)).toBe(false);
    await batch.close();
    expect(Buffer.compare(readFileSync(dest), Buffer.concat(chunks))).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.bin']);

    const failed = await fileSink(join(dir, 'failed.bin'));
    await failed[WRITE_BATCH]!.write([new Uint8Array(10)]);
    await failed[WRITE_BATCH]!.abort(new Error('stop'));
    expect(readdirSync(dir)).toEqual(['out.bin']);
  });

  it('still works as a plain WritableStream', async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-fs-'));
    const dest = join(dir, 'plain.bin');
    const writer = (await fileSink(dest)).getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.close();
    expect([...readFileSync(dest)]).toEqual([1, 2, 3]);
    await expect(fileSink(dest)).rejects.toMatchObject({ code: 'Usage' });
  });
});
