/**
 * Public types of files-v1 transfers (`sendFiles`, and the `files` offer of
 * `receiveOffer`). Wire format: `@burrow/protocol/files`.
 */
import type { Hasher } from '@burrow/protocol';
import type { OfferedFile } from '@burrow/protocol/files';
import type { ConnectOptions } from '../../connection/connect.js';
import type { Connection, ConnectionKind } from '../../connection/types.js';
import type { DirectorySource, FileSource, TransferOptions } from '../types.js';

export type { OfferedFile };

/** A file to send; `path` places it in the offer (default: `name`). */
export interface FilesItem extends FileSource {
  /** Relative `/`-separated path in the offer, e.g. `photos/a.jpg` (default `name`). */
  readonly path?: string;
  /** Modification time to report, ms since the epoch. */
  readonly mtimeMs?: number;
  /** Unix permission bits to report. */
  readonly mode?: number;
}

/** What `sendFiles` takes: files, and directories (sent as the files under `dir.name/`). */
export type SendItem = FilesItem | DirectorySource;

/**
 * Where a files-v1 receiver keeps what arrives. Partial data stays under a
 * name of the sink's own (never the final one) until the file's SHA-256 was
 * checked; then `commit()` gives it its final name. What a partial holds
 * survives a failure, so a later transfer (with a new code) resumes it.
 */
export interface FilesSink {
  /** Get ready to receive `file`: find what an earlier attempt kept (by path and size). */
  open(file: OfferedFile): Promise<PartialFile>;
  /** Create one of the offer's empty directories. */
  mkdir(segments: readonly string[]): Promise<void>;
}

/** One file on its way in (see {@link FilesSink}). */
export interface PartialFile {
  /** Bytes kept from an earlier attempt (0 if none); never more than the file's size. */
  readonly held: number;
  /** The kept bytes, to prove them to the sender. */
  readHeld(): ReadableStream<Uint8Array>;
  /**
   * Keep the first `from` bytes (0 or `held`) and append after them. The
   * stream's close makes the bytes durable; an abort keeps what was written
   * (the next attempt resumes from it).
   */
  write(from: number): Promise<WritableStream<Uint8Array>>;
  /** All bytes checked: move the file to its final name. */
  commit(): Promise<void>;
  /** The bytes are wrong: drop the partial data. */
  discard(): Promise<void>;
}

/** A progress snapshot of a files-v1 transfer. */
export interface FilesProgress {
  /** Bytes of the accepted files that are in place (kept from earlier attempts included). */
  readonly bytes: number;
  readonly total: number;
  /** Bytes that crossed the connection in this transfer. */
  readonly moved: number;
  readonly filesDone: number;
  readonly files: number;
  readonly elapsedMs: number;
  /** Average rate of `moved` since the transfer began. */
  readonly bytesPerSecond: number;
  readonly via: ConnectionKind;
  readonly done: boolean;
}

export interface FilesOptions {
  signal?: AbortSignal;
  /** Options of the `w.connect()` that carries the transfer (and of every reconnect). */
  connect?: ConnectOptions;
  /** Called at most every `progressIntervalMs` (default 100) and once at the end. */
  onProgress?: (progress: FilesProgress) => void;
  progressIntervalMs?: number;
  /**
   * SHA-256 implementation (Node passes node:crypto's). Default: in a page,
   * files of 4 MiB and more are hashed in a Worker of their own (WebAssembly;
   * the main thread stays free), smaller ones here in pure JS.
   */
  createHash?: () => Hasher;
  /** Called with the connection that carries the transfer, and again with each one that replaces it (e.g. to show `getStats()`). */
  onConnection?: (connection: Connection) => void;
  /** A round with nothing moving for this long counts as a lost connection (default 30 000 ms). */
  stallTimeoutMs?: number;
  /** How many times a lost connection is re-established within this code (default 3). */
  reconnects?: number;
}

export interface SendFilesOptions extends FilesOptions {
  /**
   * Used only when the peer does not speak files-v1 (e.g. the `wormhole`
   * CLI): the Transit v1 transfer's options. Several items then go as one
   * directory named `fallbackName` (default `burrow-files`).
   */
  transit?: TransferOptions['transit'];
  fallbackName?: string;
  /** Deflate level of that fallback directory's zip. */
  compressionLevel?: number;
}

export interface ReceiveFilesOptions extends FilesOptions {
  /** Which offered files to take (default all). Empty directories always come. */
  select?: (file: OfferedFile) => boolean;
  /** Files fetched at once, each on its own stream (default 4). */
  concurrency?: number;
}

/** One file of a finished transfer. */
export interface FileResult {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** Bytes that were already in place when this transfer began (0: sent whole). */
  readonly resumedFrom: number;
}

export interface FilesResult {
  readonly files: readonly FileResult[];
  /** Sum of the accepted files' sizes. */
  readonly bytes: number;
  /** Bytes that crossed the connection (less than `bytes` after a resume). */
  readonly moved: number;
  readonly via: ConnectionKind;
  /** The connection's path, e.g. `host udp 127.0.0.1:… ⇄ …`. */
  readonly connection: string;
  /** Connections re-established within the code after one was lost. */
  readonly reconnects: number;
  readonly elapsedMs: number;
}
