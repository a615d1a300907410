/**
 * A files-v1 sink over a directory on disk (`nodeFilesSink`). Partial data
 * lives next to its destination, never under the final name:
 *
 *   a/b.txt (12345 bytes)  →  partial  a/.b.txt.12345.burrow-partial
 *
 * (a leading dot so it is hidden; the size so a different file offered under
 * the same name does not pick it up; names over 255 bytes use a hash of the
 * name instead). A later transfer of the same path and size — with a new
 * code — finds the partial and resumes from it. A partial longer than the
 * file is truncated to 0. A file already complete under its final name (same
 * size) is reported as held in full, so re-running an interrupted offer does
 * not refuse the files it finished; the engine still checks its SHA-256.
 *
 * Parents are created one checked segment at a time: a parent that is a
 * symlink or a file is refused, so nothing is written outside `dir`.
 */
import { createHash } from 'node:crypto';
import { constants as C } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { bestEffort, WormholeError } from '@burrow/protocol';
import type { OfferedFile } from '@burrow/protocol/files';
import type { FilesSink, PartialFile } from '../transfer/files/types.js';
import { batchedWriter } from './sinks.js';

export interface NodeFilesSinkOptions {
  /** Replace a file that already exists under a final name (default: refuse). */
  overwrite?: boolean;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;
const refuse = (message: string) => new WormholeError('Usage', message, { blame: 'caller' });

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The partial's name for a file named `name` of `size` bytes (see the module comment). */
export function partialName(name: string, size: number): string {
  const plain = `.${name}.${size}.burrow-partial`;
  if (Buffer.byteLength(plain) <= 255) return plain;
  return `.burrow-${createHash('sha256').update(name).digest('hex').slice(0, 32)}.${size}.burrow-partial`;
}

/** Create (or find) `dir/segments…` one segment at a time, refusing symlinks and files. */
async function ensureDirectories(dir: string, segments: readonly string[]): Promise<string> {
  let path = dir;
  for (const [i, segment] of segments.entries()) {
    path = join(path, segment);
    let st = await lstatOrUndefined(path);
    if (!st) {
      await mkdir(path, { mode: 0o755 }).catch((err: unknown) => {
        if (errno(err) !== 'EEXIST') throw err;
      });
      st = await lstat(path);
    }
    if (!st.isDirectory()) {
      const what = st.isSymbolicLink() ? 'a symbolic link' : 'not a directory';
      throw refuse(`refusing to write under '${segments.slice(0, i + 1).join('/')}': it is ${what}`);
    }
  }
  return path;
}

/**
 * Bytes written between background `fdatasync` calls. The commit's fsync
 * then waits only for the last stretch: writing the page cache out as the
 * transfer goes costs no throughput (the disk works while the network
 * does), where one fsync at the end made the sender wait ~45 ms per 100 MB
 * here.
 */
const WRITEBACK_EVERY = 16 * 1024 * 1024;

/**
 * A WritableStream onto `fh` from `position`: small chunks are gathered into
 * ~1 MiB `writev` calls, one on its way at a time (sinks.ts
 * `batchedWriter`), and the data goes to disk as it comes (a background
 * `fdatasync` every {@link WRITEBACK_EVERY} bytes); close = flush + fsync +
 * close; abort = flush what came + close.
 */
function positionalStream(fh: FileHandle, position: number): WritableStream<Uint8Array> {
  // One batch on its way at a time: writes land in order, so whatever a crash (or a kill) leaves is a prefix
  // of the file that a later attempt can resume from. Several in flight could finish out of order and leave
  // a hole below the file's end, and the kept bytes would fail the sender's prefix hash.
  const out = batchedWriter(fh, position, 1024 * 1024, 1);
  let unsynced = 0;
  /** The background datasync in flight; it never rejects (a failure waits in `syncFailure` for close). */
  let syncing: Promise<void> | undefined;
  let syncFailure: { error: unknown } | undefined;
  const settle = async () => {
    await syncing;
    if (syncFailure) throw syncFailure.error;
  };
  return new WritableStream<Uint8Array>({
    // Held by reference until written: the engine hands over fresh buffers.
    async write(chunk) {
      await out.write(chunk);
      unsynced += chunk.length;
      if (unsynced < WRITEBACK_EVERY || syncing) return;
      unsynced = 0;
      syncing = fh.datasync().then(
        () => void (syncing = undefined),
        (error: unknown) => void ((syncFailure ??= { error }), (syncing = undefined)),
      );
    },
    async close() {
      await out.flush();
      await settle();
      await fh.sync();
      await fh.close();
    },
    async abort() {
      // Keep what arrived (a later attempt proves it and resumes); the abort's reason is the error to report.
      await out.flush().catch(bestEffort);
      await settle().catch(bestEffort);
      await fh.close().catch(bestEffort);
    },
  });
}

/** The first `length` bytes of `path` (not followed if it is a symlink), read 256 KiB at a time. */
function fileStream(path: string, length: number): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined;
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pos >= length) {
        await fh?.close();
        controller.close();
        return;
      }
      try {
        fh ??= await open(path, C.O_RDONLY | C.O_NOFOLLOW);
        const buf = new Uint8Array(Math.min(256 * 1024, length - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new WormholeError('TransferFailed', `'${path}' became shorter while being read`, { blame: 'local' });
        pos += bytesRead;
        controller.enqueue(buf.subarray(0, bytesRead));
      } catch (err) {
        await fh?.close().catch(bestEffort);
        throw err;
      }
    },
    async cancel() {
      await fh?.close();
    },
  });
}

/** Give `from` its final name `to` without replacing anything (unless `overwrite`). */
async function place(from: string, to: string, shown: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    const st = await lstatOrUndefined(to);
    if (st && !st.isFile()) throw refuse(`refusing to replace '${shown}': it is not a regular file`);
    await rename(from, to);
    return;
  }
  try {
    // link() fails with EEXIST if `to` exists: a check and a move in one step.
    await link(from, to);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw refuse(`refusing to overwrite existing '${shown}'`);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK'].includes(errno(err) ?? '')) throw err;
    // File systems without hard links: check, then rename.
    if (await lstatOrUndefined(to)) throw refuse(`refusing to overwrite existing '${shown}'`);
    await rename(from, to);
    return;
  }
  await unlink(from);
}

async function syncDirectory(path: string): Promise<void> {
  const fh = await open(path, C.O_RDONLY | C.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A files-v1 sink that writes the offer's tree under `dir` (created if
 * missing). A final name that already exists is refused (`Usage`, naming
 * the path) unless `{ overwrite: true }`; permission bits the sender
 * reported are applied (0o777 at most).
 *
 * @example
 * const result = await offer.accept(nodeFilesSink(process.cwd()), { createHash: nodeSha256 });
 */
export function nodeFilesSink(dir: string, options: NodeFilesSinkOptions = {}): FilesSink {
  const overwrite = options.overwrite === true;
  let root: Promise<void> | undefined;
  const ensureRoot = () => (root ??= mkdir(dir, { recursive: true }).then(() => undefined));
  return {
    async mkdir(segments) {
      await ensureRoot();
      await ensureDirectories(dir, segments);
    },
    async open(file: OfferedFile): Promise<PartialFile> {
      await ensureRoot();
      const name = file.segments.at(-1)!;
      const parent = await ensureDirectories(dir, file.segments.slice(0, -1));
      const final = join(parent, name);
      const partial = join(parent, partialName(name, file.size));
      const existing = await lstatOrUndefined(final);
      if (existing && !(existing.isFile() && existing.size === file.size) && !overwrite) throw refuse(`refusing to overwrite existing '${file.path}'`);
      // Complete under its final name from an earlier run: offered as held, left in place if it checks out.
      const done = existing !== undefined && existing.isFile() && existing.size === file.size && !overwrite;
      let held = file.size;
      if (!done) {
        const st = await lstatOrUndefined(partial);
        if (st && !st.isFile()) throw refuse(`refusing to use '${partial}': it is not a regular file`);
        held = st?.size ?? 0;
        if (held > file.size) {
          await unlink(partial);
          held = 0;
        }
      }
      let keep = done;
      return {
        held,
        readHeld: () => fileStream(done ? final : partial, held),
        async write(from) {
          if (!Number.isSafeInteger(from) || from < 0 || from > held) throw new RangeError(`write(from): from must be 0…${held}, got ${from}`);
          if (done && from === file.size) return new WritableStream<Uint8Array>({ write: () => Promise.reject(refuse(`'${file.path}' is already complete`)) });
          if (done) throw refuse(`refusing to overwrite existing '${file.path}'`);
          keep = false;
          const fh = await open(partial, C.O_WRONLY | C.O_CREAT | C.O_NOFOLLOW, 0o644);
          try {
            await fh.truncate(from);
          } catch (err) {
            await fh.close().catch(bestEffort);
            throw err;
          }
          return positionalStream(fh, from);
        },
        async commit() {
          if (keep) return;
          await ensureDirectories(dir, file.segments.slice(0, -1));
          if (file.mode !== undefined) await chmod(partial, file.mode & 0o777);
          await place(partial, final, file.path, overwrite);
          await syncDirectory(parent).catch(bestEffort);
        },
        async discard() {
          if (keep) return;
          await unlink(partial).catch((err: unknown) => {
            if (errno(err) !== 'ENOENT') throw err;
          });
        },
      };
    },
  };
}
