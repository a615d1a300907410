/**
 * Files and directories on disk as transfer sources: a file offers its
 * basename; a directory offers every file and every directory below it
 * (so empty ones travel too) with permission bits and mtimes.
 */
import { lstat, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WormholeError } from '@burrow/protocol';
import type { DirectoryEntry, DirectorySource, FileSource } from '../transfer/types.js';

/** Bytes per read: few reads keep the per-chunk work small; the bytes are still warm in cache when sealed. */
const READ_SIZE = 256 * 1024;

/**
 * The file's bytes in 256 KiB chunks, read through a file handle straight into
 * each chunk's buffer (one read ahead of the consumer). Every chunk is a
 * fresh buffer the consumer may keep.
 */
function fileStream(path: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  const release = () => {
    const h = handle;
    handle = undefined;
    return h?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        handle = await open(path, 'r');
      },
      async pull(controller) {
        const buffer = Buffer.allocUnsafe(READ_SIZE);
        let n: number;
        try {
          ({ bytesRead: n } = await handle!.read(buffer, 0, READ_SIZE, null));
        } catch (err) {
          await release();
          throw err;
        }
        if (n > 0) controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, n));
        else {
          await release();
          controller.close();
        }
      },
      cancel: release,
    },
    { highWaterMark: 1 },
  );
}

/** A file on disk as a transfer source (its basename is offered). */
export async function fileSource(path: string): Promise<FileSource> {
  const st = await stat(path);
  if (!st.isFile()) throw new WormholeError('Usage', `${path} is not a regular file`);
  return { name: basename(path), size: st.size, stream: () => fileStream(path) };
}

/**
 * A directory on disk as a transfer source: every file, and every directory
 * (so empty ones travel too), with permission bits and mtimes. Symlinks and
 * special files are skipped.
 */
export async function directorySource(path: string): Promise<DirectorySource> {
  const root = path.replace(/\/+$/, '') || '/';
  const entries: DirectoryEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, relPath);
      const st = await lstat(full);
      if (st.isDirectory()) {
        entries.push({ path: relPath, type: 'directory', mode: st.mode & 0o777, mtimeMs: st.mtimeMs });
        await walk(relPath);
      } else if (st.isFile()) {
        entries.push({ path: relPath, type: 'file', mode: st.mode & 0o777, size: st.size, mtimeMs: st.mtimeMs, open: () => fileStream(full) });
      }
    }
  };
  await walk('');
  return { name: basename(root), entries };
}
