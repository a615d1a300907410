/** Pieces shared by the sending and receiving sides of a transfer. */
import { bestEffort } from '@burrow/protocol';
import { WormholeError, isWormholeError, parseRelayLocation, transitKey, type RelayHint, type TransitKey } from '@burrow/protocol';
import { abortError, RELAYS_WELCOME_KEY } from '@burrow/protocol';
import { sendAppMessage } from '../app-messages.js';
import type { Wormhole } from '../wormhole.js';
import type { TransferProgress } from './types.js';
import type { TransitOptions } from '../transit/connector.js';

/**
 * The CLI derives the transit key from this purpose whatever `--appid` is
 * (upstream issue #339), so Burrow does too.
 */
export const TRANSIT_KEY_PURPOSE = 'lothar.com/wormhole/text-or-file-xfer/transit-key';

export async function deriveTransferKey(w: Wormhole, signal: AbortSignal | undefined): Promise<TransitKey> {
  return transitKey(await w.deriveKey(TRANSIT_KEY_PURPOSE, 32, signal ? { signal } : {}));
}

const now = (): number => (globalThis.performance?.now ? globalThis.performance.now() : Date.now());

/** Throttled progress reporting; user callbacks never throw into the transfer. */
export class ProgressMeter {
  #bytes = 0;
  #last = -Infinity;
  readonly #start = now();

  constructor(
    readonly total: number,
    private readonly cb: ((p: TransferProgress) => void) | undefined,
    private readonly intervalMs = 100,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  get elapsedMs(): number {
    return now() - this.#start;
  }

  add(n: number): void {
    this.#bytes += n;
    if (!this.cb) return;
    const t = now();
    if (t - this.#last >= this.intervalMs) {
      this.#last = t;
      this.#emit(false);
    }
  }

  finish(): void {
    if (this.cb) this.#emit(true);
  }

  #emit(done: boolean): void {
    const elapsedMs = now() - this.#start;
    try {
      this.cb?.({ bytes: this.#bytes, total: this.total, elapsedMs, bytesPerSecond: elapsedMs > 0 ? (this.#bytes * 1000) / elapsedMs : 0, done });
    } catch {
      // a progress callback must not break the transfer
    }
  }
}

/**
 * Cuts a byte stream into records of `size` bytes for a record writer,
 * copying only to join small pieces.
 */
export class Chunker {
  #buf: Uint8Array;
  #fill = 0;

  constructor(
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly size: number,
  ) {
    this.#buf = new Uint8Array(size);
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.#fill === 0 && data.length - off >= this.size) {
        await this.writer.write(data.subarray(off, off + this.size));
        off += this.size;
        continue;
      }
      const n = Math.min(this.size - this.#fill, data.length - off);
      this.#buf.set(data.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === this.size) await this.#flushFull();
    }
  }

  async flush(): Promise<void> {
    if (this.#fill === 0) return;
    const out = this.#buf.subarray(0, this.#fill);
    this.#buf = new Uint8Array(this.size);
    this.#fill = 0;
    await this.writer.write(out);
  }

  async #flushFull(): Promise<void> {
    const out = this.#buf;
    this.#buf = new Uint8Array(this.size);
    this.#fill = 0;
    await this.writer.write(out);
  }
}

/** Re-cut a stream into fixed-size blocks (the last may be shorter), so two reads of the same bytes chunk identically. */
export async function* fixedBlocks(stream: ReadableStream<Uint8Array>, size: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let buf = new Uint8Array(size);
  let fill = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const r = await reader.read();
      if (r.done) break;
      const data = r.value;
      let off = 0;
      while (off < data.length) {
        const n = Math.min(size - fill, data.length - off);
        buf.set(data.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === size) {
          yield buf;
          buf = new Uint8Array(size);
          fill = 0;
        }
      }
    }
    if (fill > 0) yield buf.subarray(0, fill);
  } finally {
    reader.cancel().catch(bestEffort);
    reader.releaseLock();
  }
}

/** Read one chunk, giving up when `signal` aborts. */
export async function readOne<T>(reader: ReadableStreamDefaultReader<T>, signal: AbortSignal | undefined): Promise<ReadableStreamReadResult<T>> {
  const reads = abortableReads(reader, signal);
  try {
    return await reads.read();
  } finally {
    reads.dispose();
  }
}

/**
 * `reader.read()` that gives up when `signal` aborts, for a loop of many
 * reads: see {@link abortableCalls}.
 */
export function abortableReads<T>(reader: ReadableStreamDefaultReader<T>, signal: AbortSignal | undefined): { read(): Promise<ReadableStreamReadResult<T>>; dispose(): void } {
  const calls = abortableCalls(() => reader.read(), signal);
  return { read: calls.call, dispose: calls.dispose };
}

/**
 * `fn()` that gives up when `signal` aborts, for a loop of many calls: one
 * abort listener for the loop's life (a per-call add and remove scans the
 * signal's listeners each time); `dispose()` drops it.
 */
export function abortableCalls<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): { call(): Promise<T>; dispose(): void } {
  if (!signal) return { call: fn, dispose: () => undefined };
  let waiting: ((err: unknown) => void) | undefined;
  const onAbort = () => waiting?.(abortError(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    call: async () => {
      signal.throwIfAborted();
      try {
        return await new Promise<T>((resolve, reject) => {
          waiting = reject;
          fn().then(resolve, reject);
        });
      } finally {
        waiting = undefined;
      }
    },
    dispose: () => signal.removeEventListener('abort', onAbort),
  };
}

/** The error to surface: an abort wins over whatever the teardown caused. */
export function finalError(err: unknown, signal: AbortSignal | undefined): WormholeError {
  if (signal?.aborted) return abortError(signal);
  if (isWormholeError(err)) return err;
  return new WormholeError('TransferFailed', `transfer failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err, blame: 'local' });
}

/** Best effort: tell the peer through the wormhole why we stopped (skipped when the peer stopped first). */
export function tellPeer(w: Wormhole, error: WormholeError): void {
  if (error.code === 'Rejected' && error.blame === 'peer') return;
  try {
    sendAppMessage(w, { error: `transfer failed: ${error.message}`.slice(0, 500) });
  } catch {
    // the wormhole is closed already
  }
}

/** Welcome key under which a Burrow gateway announces its transit relay (wire format: @burrow/protocol). */
export { RELAYS_WELCOME_KEY };

/** The relays a Burrow gateway announced in its welcome; malformed entries are ignored. */
export function relaysFromWelcome(welcome: Readonly<Record<string, unknown>>): RelayHint[] {
  const list = welcome[RELAYS_WELCOME_KEY];
  if (!Array.isArray(list)) return [];
  const out: RelayHint[] = [];
  for (const entry of list.slice(0, 4)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { tcp, websocket, webtransport } = entry as Record<string, unknown>;
    const locations = [
      ...(typeof tcp === 'string' ? [tcp] : []),
      ...(Array.isArray(websocket) ? websocket.slice(0, 4) : []),
      ...(Array.isArray(webtransport) ? webtransport.slice(0, 4) : []),
    ];
    const merged = { tcp: [] as RelayHint['tcp'][number][], websocket: [] as string[], webtransport: [] as string[] };
    for (const location of locations) {
      if (typeof location !== 'string') continue;
      try {
        const hint = parseRelayLocation(location);
        merged.tcp.push(...hint.tcp);
        merged.websocket.push(...hint.websocket);
        merged.webtransport.push(...(hint.webtransport ?? []));
      } catch {
        // a gateway we cannot understand is simply not used
      }
    }
    if (merged.tcp.length || merged.websocket.length || merged.webtransport.length) {
      const { webtransport: wt, ...rest } = merged;
      out.push(wt.length ? merged : rest);
    }
  }
  return out;
}

/** `transit` options with the mailbox's announced relays filled in when the caller named none. */
export async function withAnnouncedRelays(w: Wormhole, transit: TransitOptions | undefined): Promise<TransitOptions> {
  if (transit?.relays !== undefined) return transit;
  const relays = relaysFromWelcome(await w.welcome);
  return relays.length ? { ...transit, relays } : { ...transit };
}
