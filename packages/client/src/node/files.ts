/**
 * Files and directories on disk as transfer sources: a file offers its
 * basename; a directory offers every file and every directory below it
 * (so empty ones travel too) with permission bits and mtimes.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { WormholeError } from '@burrow/protocol';
import type { DirectoryEntry, DirectorySource, FileSource } from '../transfer/types.js';

function fileStream(path: string): ReadableStream<Uint8Array> {
  const rs = createReadStream(path, { highWaterMark: 256 * 1024 });
  return Readable.toWeb(rs) as unknown as ReadableStream<Uint8Array>;
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
