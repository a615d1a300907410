import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchedWriter } from '../src/node/sinks.js';

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
