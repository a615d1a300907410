/** Public types of file and directory transfer. */
import type { Hasher } from '@burrow/protocol';
import type { TransitKind } from '../transit/connection.js';
import type { TransitOptions } from '../transit/connector.js';

/** A file to send: in a browser `{ name: f.name, size: f.size, stream: () => f.stream() }`. */
export interface FileSource {
  /** Offered name (the receiver keeps only the last path component). */
  readonly name: string;
  /** Exact byte count; the stream must yield exactly this many bytes. */
  readonly size: number;
  /** The bytes, or a function opening them (called once). */
  readonly stream: ReadableStream<Uint8Array> | (() => ReadableStream<Uint8Array>);
}

/** One file or directory inside a directory being sent. */
export interface DirectoryEntry {
  /** Relative, `/`-separated path, e.g. `sub/notes.txt` (no leading `/`, no `..`). */
  readonly path: string;
  readonly type: 'file' | 'directory';
  /** Permission bits (default 0o644 for files, 0o755 for directories). */
  readonly mode?: number;
  /** Modification time, ms since the epoch (default: now). */
  readonly mtimeMs?: number;
  /** Size, if known (used for display only; the bytes read are what counts). */
  readonly size?: number;
  /** Files: open the bytes. Called twice (the zip's size is computed first, then it is streamed). */
  readonly open?: () => ReadableStream<Uint8Array>;
}

export interface DirectorySource {
  /** Offered directory name. */
  readonly name: string;
  /** Entries in the order they go into the zip; parents need not be listed. */
  readonly entries: readonly DirectoryEntry[];
}

/**
 * Where a received directory goes. Paths arrive as checked segments (never
 * `..`, never absolute). Nothing may be visible under the final name before
 * `commit()`; `abort()` removes everything written.
 */
export interface DirectorySink {
  mkdir(segments: readonly string[]): Promise<void>;
  createFile(segments: readonly string[]): Promise<WritableStream<Uint8Array>>;
  /** Apply permission bits from the zip (called after all entries are written). */
  chmod?(segments: readonly string[], mode: number, isDirectory: boolean): Promise<void>;
  commit(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

/**
 * What a file sink may offer beside its WritableStream face, under the key
 * {@link WRITE_BATCH}: whole batches of chunks per call. A receiver of bulk
 * data that finds it locks the stream and writes through this instead — one
 * call per read from the connection rather than one stream write per 16 KiB
 * record. Chunks are handed over (fresh buffers, never written again).
 * Node's `fileSink` offers it.
 */
export interface BatchWriter {
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** All chunks written: verify, make visible (the stream's `close`). */
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

/** The key under which a WritableStream sink offers its {@link BatchWriter}. */
export const WRITE_BATCH: unique symbol = Symbol.for('burrow.writeBatch');

/** A sink for one received file: a WritableStream, optionally with a {@link BatchWriter}. */
export type FileSink = WritableStream<Uint8Array> & { readonly [WRITE_BATCH]?: BatchWriter };

/** A progress snapshot. */
export interface TransferProgress {
  /** Bytes moved so far (of the file, or of the zip for a directory). */
  readonly bytes: number;
  readonly total: number;
  readonly elapsedMs: number;
  /** Average rate since the transfer connection opened. */
  readonly bytesPerSecond: number;
  /** True for the last call. */
  readonly done: boolean;
}

export interface TransferOptions {
  signal?: AbortSignal;
  /** How to connect (dialers, listener, relays). */
  transit?: TransitOptions;
  /** Called at most every `progressIntervalMs` (default 100) and once at the end. */
  onProgress?: (progress: TransferProgress) => void;
  progressIntervalMs?: number;
  /** SHA-256 implementation (default: a hashing Worker where Workers run, else pure JS on this thread; Node may pass a wrapper around crypto.createHash). */
  createHash?: () => Hasher;
}

export interface SendOptions extends TransferOptions {
  /** Plaintext bytes per transit record (default 64 KiB; Python sends 16 KiB). */
  recordSize?: number;
}

export interface SendDirectoryOptions extends SendOptions {
  /** Deflate level 1–9, or 0 to store (default 6; files that do not shrink are stored anyway). */
  compressionLevel?: number;
}

export interface TransferResult {
  /** Bytes sent or received over transit (the zip for a directory). */
  readonly bytes: number;
  /** SHA-256 of those bytes, lowercase hex; equal on both sides. */
  readonly sha256: string;
  readonly via: TransitKind;
  /** Which connection won, e.g. `->relay:tcp:127.0.0.1:4001`. */
  readonly connection: string;
  readonly elapsedMs: number;
}
