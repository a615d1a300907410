/**
 * The receiving end of files-v1: `receiveOffer` hands back a `files` offer
 * (the list, read from the control stream); `accept(sink)` pulls each
 * chosen file on a stream of its own, from what the sink already holds,
 * checks its SHA-256 and only then gives it its final name. A lost
 * connection is re-established within the code and the pulls go on from
 * where the data stopped.
 */
import { WormholeError, bestEffort, createSha256, withSignal, type Hasher } from '@burrow/protocol';
import { FILES_LIMITS, parseControl, parseFileStream, type FilesStart, type OfferedFile } from '@burrow/protocol/files';

export { parseFilesStart } from '@burrow/protocol/files';
import type { Wormhole } from '../../wormhole.js';
import type { ConnectOptions } from '../../connection/connect.js';
import type { Connection, ConnectionKind, DuplexStream } from '../../connection/types.js';
import { finalError, tellPeer } from '../common.js';
import { FILES_DEFAULTS, FileHashers, FilesMeter, Watchdog, announce, busySignal, io, isConnectionLoss } from './common.js';
import { FramedReader, writeFrame } from './framed.js';
import type { FileResult, FilesResult, FilesSink, ReceiveFilesOptions } from './types.js';

/** A files-v1 offer, as `receiveOffer` returns it. */
export interface FilesOffer {
  readonly type: 'files';
  readonly files: readonly OfferedFile[];
  /** Empty directories in the offer. */
  readonly directories: readonly string[];
  /** Sum of the offered files' sizes. */
  readonly bytes: number;
  /** How the connection that carries it runs. */
  readonly via: ConnectionKind;
  /** Receive the chosen files into `sink`. */
  accept(sink: FilesSink, options?: ReceiveFilesOptions): Promise<FilesResult>;
  /** Refuse: the sender gets `reason` (default "transfer rejected"). */
  reject(reason?: string): Promise<void>;
}

/** The control stream. The sender writes nothing on it after `accept` but `reject`, or its end after our `done`: `ended` is that one read. */
interface Control {
  reader: FramedReader;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  ended?: Promise<Uint8Array | undefined>;
}

function controlEnded(control: Control): Promise<Uint8Array | undefined> {
  control.ended ??= control.reader.frame(FILES_LIMITS.maxFrame);
  return control.ended;
}

/**
 * After the sender's announcement: connect, read the offer and check it
 * against the announcement. A bad offer is refused (the sender is told why).
 */
export async function openFilesOffer(w: Wormhole, start: FilesStart, options: { signal?: AbortSignal; connect?: ConnectOptions }): Promise<FilesOffer> {
  const { signal } = options;
  const conn = await w.connect({ ...options.connect, ...(signal ? { signal } : {}) });
  let control: Control | undefined;
  try {
    const incoming = conn.incoming[Symbol.asyncIterator]();
    // The offer comes right after the connection: bounded like a stall.
    const offerBy = anyOf(signal, AbortSignal.timeout(options.connect?.timeoutMs ?? FILES_DEFAULTS.idleMs));
    const first = await io(() => withSignal(incoming.next(), offerBy));
    if (first.done) throw new WormholeError('Connection', 'the sender closed the connection before offering');
    control = { reader: new FramedReader(first.value.readable, signal), writer: first.value.writable.getWriter() };
    const frame = await io(() => withSignal(control!.reader.frame(FILES_LIMITS.maxOfferFrame), offerBy));
    if (!frame) throw new WormholeError('Connection', 'the sender closed the connection before offering');
    const msg = parseControl(frame);
    if (msg.type !== 'offer') throw new WormholeError('RemoteProtocol', `files-v1: expected the offer, got ${msg.type}`, { blame: 'peer' });
    const { offer } = msg;
    if (offer.files.length !== start.files || offer.bytes !== start.bytes) {
      throw new WormholeError('RemoteProtocol', `files-v1: the offer (${offer.files.length} files, ${offer.bytes} bytes) differs from its announcement (${start.files} files, ${start.bytes} bytes)`, { blame: 'peer' });
    }
    let decided = false;
    const decide = () => {
      if (decided) throw new WormholeError('Usage', 'this offer was already accepted or rejected');
      decided = true;
    };
    const ctl = control;
    return {
      type: 'files',
      files: offer.files,
      directories: offer.directories,
      bytes: offer.bytes,
      via: conn.kind,
      reject: async (reason = 'transfer rejected') => {
        decide();
        await writeFrame(ctl.writer, { reject: reason.slice(0, 500) }).catch(bestEffort);
        await ctl.writer.close().catch(bestEffort);
        // Closing at once could drop the frame with the connection: the sender closes once it has read it.
        await withSignal(conn.closed, AbortSignal.timeout(5_000)).catch(bestEffort);
        await conn.close().catch(bestEffort);
      },
      accept: async (sink, opts = {}) => {
        decide();
        // Reconnects use receiveOffer's connect options unless accept() names its own.
        const connect = opts.connect ?? options.connect;
        return new FilesReceiver(w, conn, ctl, offer.files, offer.directories, { ...opts, ...(connect ? { connect } : {}) }).run(sink);
      },
    };
  } catch (err) {
    if (control && isWormholeProtocol(err)) {
      await writeFrame(control.writer, { reject: (err as Error).message.slice(0, 500) }).catch(bestEffort);
      await control.writer.close().catch(bestEffort);
      // Give the frame a moment to arrive before the connection goes (the sender closes once it read it).
      await withSignal(conn.closed, AbortSignal.timeout(2_000)).catch(bestEffort);
    }
    await conn.close().catch(bestEffort);
    throw err;
  }
}

const isWormholeProtocol = (err: unknown) => err instanceof WormholeError && err.code === 'RemoteProtocol';

function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

class FilesReceiver {
  readonly #w: Wormhole;
  #conn: Connection;
  #control: Control;
  readonly #offered: readonly OfferedFile[];
  readonly #dirs: readonly string[];
  readonly #options: ReceiveFilesOptions;
  readonly #results = new Map<number, FileResult>();
  #meter: FilesMeter | undefined;
  #reconnects = 0;

  constructor(w: Wormhole, conn: Connection, control: Control, offered: readonly OfferedFile[], dirs: readonly string[], options: ReceiveFilesOptions) {
    this.#w = w;
    this.#conn = conn;
    this.#control = control;
    this.#offered = offered;
    this.#dirs = dirs;
    this.#options = options;
  }

  #hasher(): Hasher {
    return (this.#options.createHash ?? createSha256)();
  }

  async run(sink: FilesSink): Promise<FilesResult> {
    const { signal } = this.#options;
    const onAbort = () => void this.#conn.close('aborted').catch(bestEffort);
    signal?.addEventListener('abort', onAbort, { once: true });
    announce(this.#options, this.#conn);
    try {
      const select = this.#options.select;
      const chosen = this.#offered.filter((f) => (select ? safeSelect(select, f) : true));
      await io(() => writeFrame(this.#control.writer, { accept: chosen.map((f) => f.index) }));
      const meter = new FilesMeter(
        chosen.reduce((n, f) => n + f.size, 0),
        chosen.length,
        this.#options.onProgress,
        this.#options.progressIntervalMs,
      );
      this.#meter = meter;
      meter.via = this.#conn.kind;
      for (const d of this.#dirs) await sink.mkdir(d.split('/'));
      const maxReconnects = this.#options.reconnects ?? FILES_DEFAULTS.reconnects;
      for (;;) {
        try {
          await this.#round(sink, chosen.filter((f) => !this.#results.has(f.index)));
          break;
        } catch (err) {
          if (!isConnectionLoss(err) || signal?.aborted || this.#reconnects >= maxReconnects) throw err;
          await this.#reconnect();
        }
      }
      // The path's stats while the connection surely stands (the sender closes it after our done).
      const stats = await this.#conn.getStats().catch(() => undefined);
      // Everything is in place: say so. Every file is committed and verified by now, so a connection
      // lost here loses nothing of ours; but the sender may not have heard (its last `ok` or our `done`
      // went with the path): then it reconnects, and we give it one bounded chance to hear it again.
      const heard = await this.#sayDone(chosen);
      if (!heard && this.#reconnects < maxReconnects && !signal?.aborted) {
        await this.#reconnect(AbortSignal.timeout(this.#stallMs()))
          .then(() => this.#sayDone(chosen))
          .catch(bestEffort);
      }
      meter.finish();
      return {
        files: chosen.map((f) => this.#results.get(f.index)!),
        bytes: meter.total,
        moved: meter.moved,
        via: this.#conn.kind,
        connection: stats?.path ?? this.#conn.kind,
        reconnects: this.#reconnects,
        elapsedMs: meter.elapsedMs,
      };
    } catch (err) {
      const e = finalError(err, signal);
      await writeFrame(this.#control.writer, { reject: `transfer failed: ${e.message}`.slice(0, 500) }).catch(bestEffort);
      tellPeer(this.#w, e);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.#conn.close().catch(bestEffort);
    }
  }

  #stallMs(): number {
    return this.#options.stallTimeoutMs ?? FILES_DEFAULTS.idleMs;
  }

  /**
   * Write `done`; true once the sender heard it: it closed its side of the control stream, or
   * the whole connection cleanly (on WebRTC its goodbye may overtake the stream's end). False
   * if neither happened within the stall bound (10 s at most).
   */
  async #sayDone(chosen: readonly OfferedFile[]): Promise<boolean> {
    const bound = AbortSignal.timeout(Math.min(10_000, this.#stallMs()));
    const cleanClose = () => this.#conn.closed.then(() => true, () => false);
    try {
      await withSignal(writeFrame(this.#control.writer, { done: { files: chosen.map((f) => f.index) } }), bound);
      return await withSignal(controlEnded(this.#control).then((frame) => frame === undefined || cleanClose(), cleanClose), bound);
    } catch {
      return false;
    }
  }

  async #reconnect(bound?: AbortSignal): Promise<void> {
    await this.#conn.close('lost').catch(bestEffort);
    const signal = anyOf(this.#options.signal, bound);
    this.#conn = await this.#w.connect({ ...this.#options.connect, signal });
    this.#reconnects++;
    announce(this.#options, this.#conn);
    if (this.#meter) this.#meter.via = this.#conn.kind;
    const stream = await io(() => this.#conn.openStream());
    this.#control = { reader: new FramedReader(stream.readable, signal), writer: stream.writable.getWriter() };
    await io(() => writeFrame(this.#control.writer, { resume: { files: [...this.#results.keys()] } }));
  }

  /** Pull `files` over the current connection, `concurrency` at a time. */
  async #round(sink: FilesSink, files: readonly OfferedFile[]): Promise<void> {
    const watchdog = new Watchdog(this.#options.stallTimeoutMs ?? FILES_DEFAULTS.idleMs);
    const stop = new AbortController();
    const signal = anyOf(watchdog.signal, stop.signal, this.#options.signal);
    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await this.#fetchWithRetry(sink, file, signal, watchdog);
    };
    const n = Math.max(1, Math.min(this.#options.concurrency ?? FILES_DEFAULTS.concurrency, queue.length));
    const workers = Array.from({ length: n }, () =>
      worker().catch((err: unknown) => {
        stop.abort(err);
        throw err;
      }),
    );
    // The sender closing the control stream (or the connection going) ends the round too.
    const ended = controlEnded(this.#control).then(
      (frame) => {
        const msg = frame ? parseControl(frame) : undefined;
        stop.abort(msg?.type === 'reject' ? new WormholeError('Rejected', `the sender stopped: ${msg.reason}`, { blame: 'peer' }) : new WormholeError('Connection', 'the sender closed the control stream'));
      },
      (err: unknown) => stop.abort(err),
    );
    ended.catch(bestEffort);
    // So does the connection going (a peer that vanished, a path that died).
    const lost = () => stop.abort(new WormholeError('Connection', 'the connection to the sender was lost'));
    this.#conn.closed.then(lost, lost);
    try {
      const settled = await Promise.allSettled(workers);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        const reason: unknown = stop.signal.aborted ? stop.signal.reason : failed.reason;
        throw watchdog.signal.aborted && !this.#options.signal?.aborted ? watchdog.signal.reason : reason;
      }
    } finally {
      watchdog.stop();
    }
  }

  /** A file whose whole SHA-256 did not match is fetched once more from 0 before the transfer fails. */
  async #fetchWithRetry(sink: FilesSink, file: OfferedFile, signal: AbortSignal, watchdog: Watchdog): Promise<void> {
    try {
      await this.#fetch(sink, file, signal, watchdog);
    } catch (err) {
      if (!(err instanceof WormholeError && err.code === 'TransferFailed' && err.message.includes('sha256 mismatch'))) throw err;
      await this.#fetch(sink, file, signal, watchdog);
    }
  }

  async #fetch(sink: FilesSink, file: OfferedFile, signal: AbortSignal, watchdog: Watchdog): Promise<void> {
    const hashers = new FileHashers(this.#options.createHash, file.size);
    try {
      await this.#pull(sink, file, signal, watchdog, hashers);
    } finally {
      hashers.dispose();
    }
  }

  async #pull(sink: FilesSink, file: OfferedFile, signal: AbortSignal, watchdog: Watchdog, hashers: FileHashers): Promise<void> {
    const meter = this.#meter!;
    const partial = await sink.open(file);
    let held = Math.min(partial.held, file.size);
    const whole = await hashers.make();
    const prefix = held > 0 ? this.#hasher() : undefined; // its digest goes out at once: here, not in a Worker
    if (prefix) {
      const control = this.#control.writer;
      const busy = busySignal((frame) => control.write(frame), watchdog.idleMs);
      held = await hashHeld(partial.readHeld(), held, [whole, prefix], signal, watchdog, busy);
    }
    meter.place(file.index, held);
    const stream: DuplexStream = await io(() => this.#conn.openStream());
    const reader = new FramedReader(stream.readable, signal);
    const writer = stream.writable.getWriter();
    let out: WritableStreamDefaultWriter<Uint8Array> | undefined;
    try {
      await io(() => writeFrame(writer, { get: { file: file.index, offset: held, ...(prefix && held > 0 ? { sha256: prefix.hexDigest() } : {}) } }));
      let answer = parseFileStream(await expectFrame(reader));
      // The sender may be hashing a long prefix first: it says so now and then.
      while (answer.type === 'busy') {
        watchdog.touch();
        answer = parseFileStream(await expectFrame(reader));
      }
      if (answer.type === 'error') throw new WormholeError('TransferFailed', `the sender cannot send ${file.path}: ${answer.reason}`, { blame: 'peer' });
      if (answer.type !== 'send' || answer.file !== file.index || (answer.offset !== 0 && answer.offset !== held)) {
        throw new WormholeError('RemoteProtocol', `files-v1: bad answer to get ${file.index}`, { blame: 'peer' });
      }
      const from = answer.offset;
      const hasher = from === held ? whole : await hashers.make();
      meter.place(file.index, from);
      out = (await partial.write(from)).getWriter();
      const sink = out;
      await reader.bytes(file.size - from, async (chunk) => {
        hasher.update(chunk);
        await sink.write(chunk);
        meter.add(file.index, chunk.length);
        watchdog.touch();
      });
      const trailer = parseFileStream(await expectFrame(reader));
      if (trailer.type !== 'sha256') throw new WormholeError('RemoteProtocol', `files-v1: expected the sha256 of ${file.index}, got ${trailer.type}`, { blame: 'peer' });
      await out.close();
      out = undefined;
      const sha256 = await hasher.hexDigest();
      if (sha256 !== trailer.sha256) {
        await partial.discard();
        meter.place(file.index, 0);
        await writeFrame(writer, { error: 'sha256 mismatch' }).catch(bestEffort);
        throw new WormholeError('TransferFailed', `sha256 mismatch for ${file.path}: the sender has ${trailer.sha256}, we got ${sha256}`, { blame: 'peer' });
      }
      await partial.commit();
      this.#results.set(file.index, { path: file.path, size: file.size, sha256, resumedFrom: from });
      meter.filesDone++;
      meter.tick();
      await io(() => writeFrame(writer, { ok: {} }));
      await writer.close().catch(bestEffort);
    } catch (err) {
      // What was written stays: the next attempt resumes from it.
      await out?.close().catch(bestEffort);
      await writer.abort(err).catch(bestEffort);
      throw err;
    } finally {
      reader.dispose();
    }
  }
}

async function expectFrame(reader: FramedReader): Promise<Uint8Array> {
  const frame = await io(() => reader.frame(FILES_LIMITS.maxFrame));
  if (!frame) throw new WormholeError('Connection', 'the stream ended early');
  return frame;
}

/** Feed the held bytes to `hashers`; returns how many there were (at most `limit`). */
async function hashHeld(readable: ReadableStream<Uint8Array>, limit: number, hashers: Pick<Hasher, 'update'>[], signal: AbortSignal, watchdog: Watchdog, busy: (hashed: number) => void): Promise<number> {
  const reader = readable.getReader();
  let n = 0;
  try {
    while (n < limit) {
      signal.throwIfAborted();
      const r = await reader.read();
      if (r.done) break;
      const piece = r.value.subarray(0, limit - n);
      for (const h of hashers) h.update(piece);
      n += piece.length;
      watchdog.touch();
      busy(n);
    }
  } finally {
    reader.cancel().catch(bestEffort);
  }
  return n;
}

function safeSelect(select: (f: OfferedFile) => boolean, file: OfferedFile): boolean {
  try {
    return select(file) === true;
  } catch {
    return false;
  }
}
