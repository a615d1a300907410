/**
 * A files-v1 sink in the browser's origin private file system (OPFS):
 * partial data survives a closed tab, a reload or a crash, so a later
 * transfer — with a new code — resumes it; a file gets its final name only
 * after its SHA-256 was checked. The page never holds a whole file.
 *
 *   const sink = opfsFilesSink();
 *   if ((await sink.listPartials()).length) showResumePrompt();
 *   const offer = await receiveOffer(w);
 *   if (offer.type === 'files') await offer.accept(sink);
 *   const file = await sink.getFile('photos/a.jpg');   // disk-backed: URL.createObjectURL(file)
 *
 * Layout under the OPFS root (names configurable):
 *   burrow-partial/<dir>/<name>.<size>.part   what an attempt kept (resumable)
 *   burrow-received/<dir>/<name>              committed files
 */
import { bestEffort, isWormholeError, WormholeError } from '@burrow/protocol';
import type { OfferedFile } from '@burrow/protocol/files';
import type { FilesSink, PartialFile } from '../transfer/files/types.js';
import { defaultGetDirectory, dirAt, fileIn, moveFile, pruneEmpty, pruneTree, walkFiles, type GetDirectory, type OpfsFile } from './opfs-handles.js';
import { segmentWritable, syncWritable, SyncAccessWorker, workerConstructor, type WorkerConstructor } from './opfs-writer.js';

export interface OpfsFilesSinkOptions {
  /** Folder (under the OPFS root) of partial data. Default `burrow-partial`. */
  partialDir?: string;
  /** Folder (under the OPFS root) of committed files. Default `burrow-received`. */
  receivedDir?: string;
  /** The OPFS root (default `navigator.storage.getDirectory()`), e.g. a sub-folder of it. */
  getDirectory?: GetDirectory;
  /**
   * Write through a Worker with sync access handles (default: where Workers
   * exist, falling back per file to segments). `false`: segments only.
   */
  worker?: boolean | WorkerConstructor;
  /** Segment size of the fallback path: at most this much is lost in a crash. Default 8 MiB. */
  segmentBytes?: number;
  /** How often the Worker path flushes. Default 8 MiB. */
  flushBytes?: number;
}

/** Partial data an earlier attempt kept. */
export interface OpfsPartial {
  readonly path: string;
  /** The size of the whole file. */
  readonly size: number;
  /** Bytes kept. */
  readonly held: number;
}

/** A committed file. */
export interface OpfsReceived {
  readonly path: string;
  readonly size: number;
}

export interface OpfsFilesSink extends FilesSink {
  /** A received (committed) file, backed by disk, named as offered. Throws `Usage` if there is none. */
  getFile(path: string): Promise<File>;
  /** Committed files. */
  listReceived(): Promise<OpfsReceived[]>;
  /** Remove one committed file, or all of them. */
  clearReceived(path?: string): Promise<void>;
  /** What earlier attempts kept (to offer "resume"). */
  listPartials(): Promise<OpfsPartial[]>;
  /** Drop one partial file (path + size), or all of them. */
  clearPartials(partial?: { path: string; size: number }): Promise<void>;
  /** How files opened so far are written: `sync` (Worker), `segments`, or both. */
  readonly modes: ReadonlySet<'sync' | 'segments'>;
}

const MiB = 1024 * 1024;
/** A locked partial is tried this many times, this far apart, before the transfer fails. */
const LOCK_RETRIES = 20;
const LOCK_RETRY_MS = 250;
const isLocked = (err: unknown) => (err as { name?: unknown } | null)?.name === 'NoModificationAllowedError';

/**
 * Run `fn`, again while the file is locked: Chromium lets go of a closed
 * access handle — ours just now, or a closed tab's — a moment later. One
 * that stays locked (another open tab) fails with `TransferFailed`.
 */
async function whenUnlocked<T>(fn: () => Promise<T>, path: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isLocked(err)) throw err;
      if (attempt >= LOCK_RETRIES) throw new WormholeError('TransferFailed', `the partial data of ${path} stays locked (another tab receiving it?)`, { cause: err, blame: 'local' });
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
}
const PART = /^(.+)\.(\d+)\.part$/;

/** The first `bytes` of a file, read as the consumer pulls (never the whole file at once). */
function heldStream(file: () => Promise<File>, bytes: number): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= (await file()).slice(0, bytes).stream().getReader();
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  });
}

function segmentsOf(path: string): string[] {
  const segments = path.split('/');
  if (path === '' || segments.some((s) => s === '' || s === '.' || s === '..')) throw new WormholeError('Usage', `not a relative file path: ${JSON.stringify(path)}`);
  return segments;
}

/** A {@link FilesSink} in OPFS (see the module comment). */
export function opfsFilesSink(options: OpfsFilesSinkOptions = {}): OpfsFilesSink {
  const getDirectory = options.getDirectory ?? defaultGetDirectory;
  const partialName = options.partialDir ?? 'burrow-partial';
  const receivedName = options.receivedDir ?? 'burrow-received';
  const segmentBytes = options.segmentBytes ?? 8 * MiB;
  const flushBytes = options.flushBytes ?? 8 * MiB;
  const WorkerCtor = workerConstructor(options.worker);
  const worker = WorkerCtor ? new SyncAccessWorker(WorkerCtor) : undefined;
  let syncBroken = !worker;
  const modes = new Set<'sync' | 'segments'>();
  let active = 0;

  const top = async (name: string) => (await getDirectory()).getDirectoryHandle(name, { create: true });

  async function openWritable(handle: OpfsFile, from: number, path: string): Promise<WritableStream<Uint8Array>> {
    if (!syncBroken && worker) {
      try {
        const file = await whenUnlocked(() => worker.open(handle, from), path);
        modes.add('sync');
        return syncWritable(file, from, flushBytes);
      } catch (err) {
        if (isWormholeError(err)) throw err;
        // No sync access handles here (or the Worker cannot start, or the
        // handle cannot be posted): segments from now on.
        syncBroken = true;
      }
    }
    modes.add('segments');
    return segmentWritable(handle, from, segmentBytes);
  }

  async function open(file: OfferedFile): Promise<PartialFile> {
    const dirSegments = file.segments.slice(0, -1);
    const name = file.segments.at(-1)!;
    const partName = `${name}.${file.size}.part`;
    const partials = await top(partialName);
    active++;
    let settled = false;
    // Empty folders of the partial tree go once no file of this sink is open (pruning
    // one while another file is being opened in it would pull the folder from under it).
    const settle = async () => {
      if (settled) return;
      settled = true;
      if (--active === 0) await pruneTree(partials).catch(bestEffort);
    };
    const partDir = (await dirAt(partials, dirSegments, true))!;
    // Complete under its final name from an earlier run: held in full, left in place if it checks out.
    const finalDir = await dirAt(await top(receivedName), dirSegments, false);
    const final = finalDir && (await fileIn(finalDir, name));
    const done = final !== undefined && (await final.getFile()).size === file.size;
    const handle = done ? undefined : await partDir.getFileHandle(partName, { create: true });
    const held = done ? file.size : Math.min((await handle!.getFile()).size, file.size);
    let keep = done;
    return {
      held,
      readHeld: () => heldStream(() => (final ?? handle)!.getFile(), held),
      async write(from) {
        if (from !== 0 && from !== held) throw new WormholeError('Usage', `PartialFile.write: from must be 0 or held (${held}), not ${from}`);
        if (done && from === held) return new WritableStream<Uint8Array>({ write: () => Promise.reject(new WormholeError('TransferFailed', `${file.path} is already complete`)) });
        keep = false;
        return openWritable(handle ?? (await partDir.getFileHandle(partName, { create: true })), from, file.path);
      },
      // Called once the stream closed: the Worker's handle is closed by then.
      async commit() {
        if (!keep) {
          const target = (await dirAt(await top(receivedName), dirSegments, true))!;
          const part = handle ?? (await partDir.getFileHandle(partName));
          await whenUnlocked(() => moveFile(part, partDir, target, name), file.path);
        }
        await settle();
      },
      async discard() {
        if (!keep) await partDir.removeEntry(partName).catch(bestEffort);
        await settle();
      },
    };
  }

  return {
    modes,
    open,
    async mkdir(segments) {
      await dirAt(await top(receivedName), segments, true);
    },
    async getFile(path) {
      const segments = segmentsOf(path);
      const dir = await dirAt(await top(receivedName), segments.slice(0, -1), false);
      const handle = dir && (await fileIn(dir, segments.at(-1)!));
      if (!handle) throw new WormholeError('Usage', `no received file ${JSON.stringify(path)}`);
      return handle.getFile();
    },
    async listReceived() {
      const out: OpfsReceived[] = [];
      for await (const { segments, handle } of walkFiles(await top(receivedName))) out.push({ path: segments.join('/'), size: (await handle.getFile()).size });
      return out;
    },
    async clearReceived(path) {
      const root = await getDirectory();
      if (path === undefined) return root.removeEntry(receivedName, { recursive: true }).catch(bestEffort);
      const segments = segmentsOf(path);
      const received = await top(receivedName);
      const dir = await dirAt(received, segments.slice(0, -1), false);
      await dir?.removeEntry(segments.at(-1)!, { recursive: true }).catch(bestEffort);
      await pruneEmpty(received, segments.slice(0, -1));
    },
    async listPartials() {
      const out: OpfsPartial[] = [];
      for await (const { segments, handle } of walkFiles(await top(partialName))) {
        const m = PART.exec(segments.at(-1)!);
        if (!m) continue;
        const size = Number(m[2]);
        const held = Math.min(size, (await handle.getFile()).size);
        out.push({ path: [...segments.slice(0, -1), m[1]!].join('/'), size, held });
      }
      return out;
    },
    async clearPartials(partial) {
      const root = await getDirectory();
      if (!partial) return root.removeEntry(partialName, { recursive: true }).catch(bestEffort);
      const segments = segmentsOf(partial.path);
      const partials = await top(partialName);
      const dir = await dirAt(partials, segments.slice(0, -1), false);
      await dir?.removeEntry(`${segments.at(-1)!}.${partial.size}.part`).catch(bestEffort);
      await pruneEmpty(partials, segments.slice(0, -1));
    },
  };
}

export type { OpfsDir, OpfsFile, GetDirectory } from './opfs-handles.js';
export type { WorkerConstructor } from './opfs-writer.js';
