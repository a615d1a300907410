/**
 * Files and directories on disk as transfer sinks. A sink never presents a
 * partial result under the final name: a file is written to a hidden
 * temporary name in the target folder and renamed when the transfer is
 * verified; a directory is extracted into a hidden temporary folder and
 * renamed as a whole. Failures remove the temporaries.
 */
import { bestEffort } from '@burrow/protocol';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WormholeError } from '@burrow/protocol';
import { WRITE_BATCH, type BatchWriter, type DirectorySink, type FileSink } from '../transfer/types.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Gathers small writes (transit records are often 16 KiB) into ~1 MiB
 * `writev` calls at explicit offsets from `start`: one thread-pool round trip per MiB
 * instead of per record. Up to `depth` batches are on their way to the file
 * while the next one fills — on a loaded machine a write can wait several
 * milliseconds for a thread-pool thread, and the caller waits only when all
 * of them are still out. `flush` writes the rest and reports a failed write.
 */
export function batchedWriter(
  fh: FileHandle,
  start = 0,
  batchBytes = 1024 * 1024,
  depth = 4,
): { write(chunk: Uint8Array): Promise<void>; writeMany(chunks: readonly Uint8Array[]): Promise<void>; flush(): Promise<void> } {
  let pending: Uint8Array[] = [];
  let bytes = 0;
  let position = start;
  /** Batches being written, oldest first; they never reject (a failure is kept in `failure`). */
  const inFlight: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const check = () => {
    if (failure) throw failure.error;
  };
  const writeAll = async (list: Uint8Array[], total: number, at: number) => {
    let written = (await fh.writev(list, at)).bytesWritten;
    if (written < total) {
      // Short write (rare): finish the rest piece by piece.
      const rest = Buffer.concat(list);
      while (written < total) written += (await fh.write(rest, written, total - written, at + written)).bytesWritten;
    }
  };
  const dispatch = () => {
    const list = pending;
    const total = bytes;
    pending = [];
    bytes = 0;
    inFlight.push(writeAll(list, total, position).catch((error: unknown) => void (failure ??= { error })));
    position += total;
  };
  /** After chunks were added: send a full batch off, waiting only while `depth` batches are still out. */
  const afterAdd = async () => {
    if (bytes < batchBytes) return;
    if (inFlight.length >= depth) await inFlight.shift();
    check();
    dispatch();
  };
  return {
    async write(chunk) {
      check();
      // Held by reference until written: callers hand over fresh buffers (records, inflate output).
      pending.push(chunk);
      bytes += chunk.length;
      await afterAdd();
    },
    async writeMany(chunks) {
      check();
      for (const c of chunks) {
        pending.push(c);
        bytes += c.length;
      }
      await afterAdd();
    },
    async flush() {
      if (bytes > 0) {
        // The rest waits its turn like any batch (at a depth of 1, writes stay in order).
        if (inFlight.length >= depth) await inFlight.shift();
        check();
        dispatch();
      }
      await Promise.all(inFlight.splice(0));
      check();
    },
  };
}

function tempName(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.burrow-part`);
}

async function refuseExisting(dest: string): Promise<void> {
  if (await exists(dest)) throw new WormholeError('Usage', `refusing to overwrite existing '${dest}'`);
}

const appeared = (dest: string) => new WormholeError('Usage', `refusing to overwrite '${dest}' (it appeared during the transfer)`);

/**
 * A file sink: bytes go to a hidden temporary file next to `dest`; closing
 * the stream renames it to `dest` (refusing to replace an existing file),
 * aborting it deletes the temporary.
 *
 * It also offers a {@link BatchWriter} (`WRITE_BATCH`), which `accept`
 * uses: whole reads of records per call.
 *
 * @example
 * const result = await offer.accept(await fileSink(join(dir, offer.name)));
 */
export async function fileSink(dest: string): Promise<FileSink> {
  await refuseExisting(dest);
  const tmp = tempName(dest);
  const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
  let finished = false;
  const out = batchedWriter(fh);
  const batch: BatchWriter = {
    write: (chunks) => out.writeMany(chunks),
    async close() {
      await out.flush();
      await fh.close();
      finished = true;
      if (await exists(dest)) {
        // Decision: the temporary may already be gone; the refusal is the error to report.
        await unlink(tmp).catch(bestEffort);
        throw appeared(dest);
      }
      await rename(tmp, dest);
    },
    async abort() {
      if (finished) return;
      finished = true;
      // Decision: best-effort cleanup; the transfer's own error is what the caller sees.
      await fh.close().catch(bestEffort);
      await unlink(tmp).catch(bestEffort);
    },
  };
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => out.write(chunk),
    close: () => batch.close(),
    abort: (reason) => batch.abort(reason),
  });
  return Object.assign(stream, { [WRITE_BATCH]: batch });
}

/**
 * A directory sink: entries are written under a hidden temporary folder next
 * to `dest` and the folder is renamed to `dest` on commit. Paths arrive
 * already checked (no `..`, not absolute); this also refuses to follow
 * anything that is not a plain directory.
 */
export async function directorySink(dest: string): Promise<DirectorySink> {
  await refuseExisting(dest);
  const tmp = tempName(dest);
  await mkdir(tmp, { mode: 0o700 });
  const resolve = (segments: readonly string[]) => join(tmp, ...segments);
  let done = false;
  return {
    async mkdir(segments) {
      const p = resolve(segments);
      try {
        await mkdir(p, { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await lstat(p)).isDirectory()) throw err;
      }
    },
    async createFile(segments) {
      const p = resolve(segments);
      const fh = await open(p, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o644);
      const out = batchedWriter(fh);
      return new WritableStream<Uint8Array>({
        write: (chunk) => out.write(chunk),
        close: async () => {
          await out.flush();
          await fh.close();
        },
        abort: () => fh.close(),
      });
    },
    async chmod(segments, mode) {
      const p = resolve(segments);
      const st = await lstat(p);
      if (st.isFile() || st.isDirectory()) await chmod(p, mode & 0o777);
    },
    async commit() {
      if (done) return;
      done = true;
      if (await exists(dest)) {
        await rm(tmp, { recursive: true, force: true });
        throw appeared(dest);
      }
      // The temporary folder was created 0700; the root gets the usual mode.
      await chmod(tmp, 0o755);
      await rename(tmp, dest);
    },
    async abort() {
      if (done) return;
      done = true;
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
