/**
 * The small part of the File System Access API (origin private file system)
 * the files-v1 OPFS sink uses, typed here because the DOM lib of this
 * package does not carry the worker-only and async-iterable parts.
 */
import { bestEffort, WormholeError } from '@burrow/protocol';

/** `FileSystemWritableFileStream`, as far as it is used. */
export interface OpfsWritable extends WritableStream<Uint8Array> {
  seek(position: number): Promise<void>;
  truncate(size: number): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface OpfsFile {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<OpfsWritable>;
  /** Chromium ≥ 110, Firefox ≥ 111 (OPFS). */
  move?(parent: OpfsDir, name: string): Promise<void>;
}

export interface OpfsDir {
  readonly kind: 'directory';
  readonly name: string;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFile>;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDir>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  values(): AsyncIterable<OpfsFile | OpfsDir>;
}

/** Where the OPFS root comes from (default `navigator.storage.getDirectory`). */
export type GetDirectory = () => Promise<OpfsDir>;

export const defaultGetDirectory: GetDirectory = async () => {
  const storage = (globalThis as unknown as { navigator?: { storage?: { getDirectory?: () => Promise<OpfsDir> } } }).navigator?.storage;
  if (!storage?.getDirectory) throw new WormholeError('Usage', 'this browser has no origin private file system (navigator.storage.getDirectory)');
  return storage.getDirectory();
};

const isNotFound = (err: unknown) => (err as { name?: unknown } | null)?.name === 'NotFoundError' || (err as { name?: unknown } | null)?.name === 'TypeMismatchError';

/** The directory at `segments` under `base`; `undefined` if it is not there (and `create` is false). */
export async function dirAt(base: OpfsDir, segments: readonly string[], create: boolean): Promise<OpfsDir | undefined> {
  let dir = base;
  for (const s of segments) {
    try {
      dir = await dir.getDirectoryHandle(s, { create });
    } catch (err) {
      if (!create && isNotFound(err)) return undefined;
      throw err;
    }
  }
  return dir;
}

/** The file `name` in `dir`, or `undefined`. */
export async function fileIn(dir: OpfsDir, name: string): Promise<OpfsFile | undefined> {
  try {
    return await dir.getFileHandle(name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Give `file` (in `from`) the name `name` in `to`, replacing what is there.
 * Uses `move()` where the browser has it, else copies the bytes (streamed)
 * and removes the original.
 */
export async function moveFile(file: OpfsFile, from: OpfsDir, to: OpfsDir, name: string): Promise<void> {
  await to.removeEntry(name).catch(bestEffort);
  if (typeof file.move === 'function') {
    try {
      await file.move(to, name);
      return;
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name !== 'NotSupportedError') throw err;
    }
  }
  const target = await to.getFileHandle(name, { create: true });
  await (await file.getFile()).stream().pipeTo(await target.createWritable());
  await from.removeEntry(file.name);
}

/** Remove the empty directories along `segments` under `base`, deepest first (a non-empty one stays). */
export async function pruneEmpty(base: OpfsDir, segments: readonly string[]): Promise<void> {
  for (let depth = segments.length; depth > 0; depth--) {
    const parent = await dirAt(base, segments.slice(0, depth - 1), false);
    if (!parent) return;
    try {
      await parent.removeEntry(segments[depth - 1]!);
    } catch {
      return; // not empty (or gone): the levels above are not empty either
    }
  }
}

/** Remove every empty folder under `dir` (depth first); true if `dir` itself is then empty. */
export async function pruneTree(dir: OpfsDir): Promise<boolean> {
  const entries: (OpfsFile | OpfsDir)[] = [];
  for await (const entry of dir.values()) entries.push(entry);
  let empty = true;
  for (const entry of entries) {
    if (entry.kind === 'directory' && (await pruneTree(entry))) {
      await dir.removeEntry(entry.name).catch(() => {
        empty = false; // something arrived in it meanwhile
      });
    } else empty = false;
  }
  return empty;
}

/** Every file under `dir`, with its `/`-joined path relative to it. */
export async function* walkFiles(dir: OpfsDir, prefix: readonly string[] = []): AsyncGenerator<{ segments: string[]; handle: OpfsFile }> {
  for await (const entry of dir.values()) {
    if (entry.kind === 'file') yield { segments: [...prefix, entry.name], handle: entry };
    else yield* walkFiles(entry, [...prefix, entry.name]);
  }
}
