/**
 * Browser sinks for received files and directories in the origin private
 * file system (OPFS): bytes stream to disk, so memory stays bounded, and
 * nothing carries its final name until the transfer is verified.
 *
 *   const sink = await opfsFileSink(offer.name);
 *   await offer.accept(sink.writable);
 *   const file = await sink.file();      // a File backed by disk: URL.createObjectURL(file)
 */
import { bestEffort } from '@burrow/protocol';
import { WormholeError } from '@burrow/protocol';
import type { DirectorySink } from '../transfer/types.js';

interface OpfsWritable extends WritableStream<Uint8Array> {
  close(): Promise<void>;
}
interface OpfsFileHandle {
  readonly name: string;
  createWritable(options?: { keepExistingData?: boolean }): Promise<OpfsWritable>;
  getFile(): Promise<File>;
  move?(name: string): Promise<void>;
  move?(parent: OpfsDirHandle, name: string): Promise<void>;
}
interface OpfsDirHandle {
  readonly name: string;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
}

async function root(): Promise<OpfsDirHandle> {
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<OpfsDirHandle> } } }).navigator?.storage;
  if (!storage?.getDirectory) throw new WormholeError('Usage', 'this browser has no origin private file system (navigator.storage.getDirectory)');
  const top = await storage.getDirectory();
  return top.getDirectoryHandle('burrow-received', { create: true });
}

const partName = () => `.part-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export interface OpfsFileSink {
  /** Give this to `offer.accept()`. */
  readonly writable: WritableStream<Uint8Array>;
  /** After a successful accept: the received file (named as offered). */
  file(): Promise<File>;
  /** Remove what was written (called for you if the transfer fails). */
  discard(): Promise<void>;
}

/** A file sink in OPFS. The data is written under a hidden name and renamed once the transfer completes. */
export async function opfsFileSink(name: string): Promise<OpfsFileSink> {
  const dir = await root();
  const temp = partName();
  const handle = await dir.getFileHandle(temp, { create: true });
  const inner = await handle.createWritable();
  const innerWriter = inner.getWriter();
  let finalName: string | undefined;
  const discard = async () => {
    await dir.removeEntry(finalName ?? temp).catch(bestEffort);
  };
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => innerWriter.write(chunk),
    close: async () => {
      await innerWriter.close();
      // Only now, with every byte verified by the transfer, does it get its name.
      if (typeof handle.move === 'function') {
        await dir.removeEntry(name).catch(bestEffort);
        await (handle.move as (n: string) => Promise<void>)(name);
        finalName = name;
      }
    },
    abort: async (reason) => {
      await innerWriter.abort(reason).catch(bestEffort);
      await discard();
    },
  });
  return {
    writable,
    async file() {
      const f = await handle.getFile();
      return f.name === name ? f : new File([f], name, { type: f.type, lastModified: f.lastModified });
    },
    discard,
  };
}

export interface OpfsDirectorySink extends DirectorySink {
  /** After commit: every received file with its relative path. */
  files(): Promise<{ path: string; file: File }[]>;
}

/** A directory sink in OPFS: written under a hidden folder, renamed on commit. */
export async function opfsDirectorySink(name: string): Promise<OpfsDirectorySink> {
  const top = await root();
  const tempName = partName();
  const base = await top.getDirectoryHandle(tempName, { create: true });
  const written: { path: string; handle: OpfsFileHandle }[] = [];
  const dirFor = async (segments: readonly string[]) => {
    let d = base;
    for (const s of segments) d = await d.getDirectoryHandle(s, { create: true });
    return d;
  };
  return {
    async mkdir(segments) {
      await dirFor(segments);
    },
    async createFile(segments) {
      const parent = await dirFor(segments.slice(0, -1));
      const handle = await parent.getFileHandle(segments.at(-1)!, { create: true });
      written.push({ path: segments.join('/'), handle });
      return handle.createWritable();
    },
    async commit() {
      // OPFS has no directory rename everywhere; the hidden folder simply
      // stays hidden and `files()` presents it under `name`.
    },
    async abort() {
      await top.removeEntry(tempName, { recursive: true }).catch(bestEffort);
    },
    async files() {
      return Promise.all(written.map(async (w) => ({ path: `${name}/${w.path}`, file: await w.handle.getFile() })));
    },
  };
}
