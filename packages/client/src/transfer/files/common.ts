/**
 * What both ends of a files-v1 transfer share: progress, the stall
 * watchdog, and telling a lost connection (reconnect and go on) from a
 * failure (stop).
 */
import { WormholeError, bestEffort, createSha256, isWormholeError, type Hasher } from '@burrow/protocol';
import { encodeBusy } from '@burrow/protocol/files';
import type { Connection, ConnectionKind } from '../../connection/types.js';
import { transferSha256, type TransferHasher } from '../../transit/record-forward.js';
import type { FilesOptions, FilesProgress } from './types.js';

const now = (): number => (globalThis.performance?.now ? globalThis.performance.now() : Date.now());

/** Errors that mean "the connection went away", after which the transfer reconnects within the code. */
const LOST = new Set(['Connection', 'Closed', 'StreamReset', 'PeerClosed', 'Timeout']);

export function isConnectionLoss(err: unknown): boolean {
  return isWormholeError(err) && LOST.has(err.code);
}

/**
 * Run a stream operation; whatever it throws that is not already a
 * WormholeError is the connection failing under it (a reset data channel,
 * a closed mux), so it becomes `Connection`.
 */
export async function io<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isWormholeError(err)) throw err;
    throw new WormholeError('Connection', `the connection failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Throttled progress of a files-v1 transfer; callbacks never throw into it. */
export class FilesMeter {
  inPlace = 0;
  moved = 0;
  filesDone = 0;
  via: ConnectionKind = 'relay';
  #last = -Infinity;
  readonly #start = now();

  constructor(
    readonly total: number,
    readonly files: number,
    private readonly cb: ((p: FilesProgress) => void) | undefined,
    private readonly intervalMs = 100,
  ) {}

  get elapsedMs(): number {
    return now() - this.#start;
  }

  readonly #perFile = new Map<number, number>();

  /** File `index` now has `bytes` in place at the receiver (kept from earlier, or 0 after a restart). */
  place(index: number, bytes: number): void {
    this.inPlace += bytes - (this.#perFile.get(index) ?? 0);
    this.#perFile.set(index, bytes);
    this.tick();
  }

  /** `n` bytes of file `index` crossed the connection. */
  add(index: number, n: number): void {
    this.moved += n;
    this.inPlace += n;
    this.#perFile.set(index, (this.#perFile.get(index) ?? 0) + n);
    this.tick();
  }

  tick(): void {
    if (!this.cb) return;
    const t = now();
    if (t - this.#last < this.intervalMs) return;
    this.#last = t;
    this.#emit(false);
  }

  finish(): void {
    if (this.cb) this.#emit(true);
  }

  #emit(done: boolean): void {
    const elapsedMs = this.elapsedMs;
    try {
      this.cb?.({
        bytes: this.inPlace,
        total: this.total,
        moved: this.moved,
        filesDone: this.filesDone,
        files: this.files,
        elapsedMs,
        bytesPerSecond: elapsedMs > 0 ? (this.moved * 1000) / elapsedMs : 0,
        via: this.via,
        done,
      });
    } catch {
      // a progress callback must not break the transfer
    }
  }
}

/**
 * Aborts a round of the transfer when nothing moved for `idleMs`: a peer
 * that stalls (or a path that died silently) is then treated like a lost
 * connection. `touch()` on every frame and chunk.
 */
export class Watchdog {
  readonly #controller = new AbortController();
  #last = now();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly idleMs: number) {
    this.#timer = setInterval(() => {
      if (now() - this.#last > idleMs) {
        this.#controller.abort(new WormholeError('Timeout', `nothing moved for ${Math.round(idleMs / 1000)} s: the peer stalled or the connection died`));
      }
    }, Math.min(1000, idleMs / 2));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  touch(): void {
    this.#last = now();
  }

  /** Stop watching (and abort the round's signal with `reason`, if given). */
  stop(reason?: unknown): void {
    clearInterval(this.#timer);
    if (reason !== undefined && !this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}

/**
 * While a side hashes a long prefix (a resumed file: gigabytes at a few
 * hundred MB/s in a page) the other hears nothing: every `everyMs` this says
 * `busy` on a stream the peer is reading, so its watchdog knows we are alive.
 * A failed write is the connection's to report, not this.
 */
export function busySignal(write: (frame: Uint8Array) => Promise<void>, idleMs: number): (hashed: number) => void {
  const everyMs = Math.min(5_000, idleMs / 3);
  let last = now();
  return (hashed) => {
    const t = now();
    if (t - last < everyMs) return;
    last = t;
    write(encodeBusy(hashed)).catch(bestEffort);
  };
}

/** Tell the app which connection carries the transfer now (its callback never throws into it). */
export function announce(options: FilesOptions, conn: Connection): void {
  try {
    options.onConnection?.(conn);
  } catch {
    // an app callback must not break the transfer
  }
}

/** Defaults shared by both ends. */
export const FILES_DEFAULTS = { reconnects: 3, concurrency: 4, idleMs: 30_000 } as const;

/** Files at least this big are hashed in a Worker where Workers run (below it, starting one costs more than it saves). */
const WORKER_HASH_MIN = 4 * 1024 * 1024;

/**
 * The SHA-256 hashers of one file's stream: the app's `createHash` when it
 * gave one; else, for a big file where Workers run (a page), a Worker of its
 * own — the page's main thread stays free and WebAssembly hashes at twice
 * noble's speed; its digest is a promise — else noble here. `dispose` stops
 * any Worker still running (a digest already stopped its own).
 */
export class FileHashers {
  readonly #made: TransferHasher[] = [];

  constructor(
    private readonly createHash: (() => Hasher) | undefined,
    private readonly size: number,
  ) {}

  async make(): Promise<TransferHasher> {
    const h = this.createHash ? this.createHash() : this.size >= WORKER_HASH_MIN ? await transferSha256() : createSha256();
    this.#made.push(h);
    return h;
  }

  dispose(): void {
    for (const h of this.#made.splice(0)) if ('dispose' in h) h.dispose();
  }
}
