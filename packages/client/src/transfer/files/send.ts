/**
 * `sendFiles`: many files and folders in one offer. Between two Burrow
 * peers it runs files-v1 over `w.connect()` (docs-site/protocol/files-v1.md):
 * the offer goes over a control stream, the receiver pulls each file on a
 * stream of its own from the offset it already holds, and a lost connection
 * is re-established within the code. With any other peer (the `wormhole`
 * CLI) it is a Transit v1 file or directory transfer, as before.
 *
 *   const result = await sendFiles(w, [fileA, fileB, folder], { onProgress });
 */
import { WormholeError, bestEffort, createSha256, withSignal, type Hasher } from '@burrow/protocol';
import { FILES_LIMITS, encodeFilesStart, encodeOffer, parseControl, parseFileStream, type ControlMessage } from '@burrow/protocol/files';
import { parsePeerConnectInfo } from '@burrow/protocol/webrtc';
import { sendAppMessage } from '../../app-messages.js';
import type { Wormhole } from '../../wormhole.js';
import { FILES_V1, advertisedFor } from '../../connection/advertise.js';
import type { Connection, ConnectionStats, DuplexStream } from '../../connection/types.js';
import { finalError, tellPeer } from '../common.js';
import type { TransferResult } from '../types.js';
import { sendDirectory, sendFile } from '../send.js';
import { FILES_DEFAULTS, FileHashers, FilesMeter, Watchdog, announce, busySignal, io, isConnectionLoss } from './common.js';
import { FramedReader, writeFrame } from './framed.js';
import type { FileResult, FilesResult, SendFilesOptions, SendItem } from './types.js';
import { flatten, isDirectory, type Outgoing } from './outgoing.js';


/** Whether both we and the peer (from its `version`) speak files-v1. */
export async function peerSpeaksFiles(w: Wormhole, signal?: AbortSignal): Promise<boolean> {
  if (!advertisedFor(w)?.abilities.includes(FILES_V1)) return false;
  const versions = await withSignal(w.peerVersions, signal);
  return parsePeerConnectInfo(versions)?.abilities.includes(FILES_V1) ?? false;
}

/**
 * Send files and folders. Resolves with a {@link FilesResult} between
 * Burrow peers, or a Transit v1 {@link TransferResult} otherwise. Rejects
 * with `Usage` (bad item), `Rejected`, `TransferFailed`, `RemoteProtocol`,
 * `Connection` (lost for good), `Timeout` or `Aborted`.
 */
export async function sendFiles(w: Wormhole, items: readonly SendItem[], options: SendFilesOptions = {}): Promise<FilesResult | TransferResult> {
  options.signal?.throwIfAborted();
  if (!Array.isArray(items) || items.length === 0) throw new WormholeError('Usage', 'sendFiles needs at least one file or directory');
  if (!(await peerSpeaksFiles(w, options.signal))) return sendClassic(w, items, options);
  let offer: { files: Outgoing[]; directories: string[] };
  try {
    offer = flatten(items);
  } catch (err) {
    // The peer is waiting for an offer: tell it why none comes.
    tellPeer(w, finalError(err, options.signal));
    throw err;
  }
  return new FilesSender(w, offer.files, offer.directories, options).run();
}

/** Transit v1 for a peer without files-v1: one file, one directory, or several items as one directory. */
async function sendClassic(w: Wormhole, items: readonly SendItem[], options: SendFilesOptions): Promise<TransferResult> {
  const { transit, signal, createHash, progressIntervalMs, compressionLevel } = options;
  const base = { ...(transit ? { transit } : {}), ...(signal ? { signal } : {}), ...(createHash ? { createHash } : {}), ...(progressIntervalMs ? { progressIntervalMs } : {}) };
  const onProgress = options.onProgress;
  const progress = onProgress
    ? {
        onProgress: (p: { bytes: number; total: number; elapsedMs: number; bytesPerSecond: number; done: boolean }) =>
          onProgress({ ...p, moved: p.bytes, filesDone: p.done ? items.length : 0, files: items.length, via: 'relay' }),
      }
    : {};
  const level = compressionLevel !== undefined ? { compressionLevel } : {};
  const only = items.length === 1 ? items[0]! : undefined;
  if (only && !isDirectory(only)) return sendFile(w, only, { ...base, ...progress });
  if (only && isDirectory(only)) return sendDirectory(w, only, { ...base, ...progress, ...level });
  const entries = items.flatMap((item) => {
    if (isDirectory(item)) return [{ path: item.name, type: 'directory' as const }, ...item.entries.map((e) => ({ ...e, path: `${item.name}/${e.path}` }))];
    const { stream } = item;
    if (typeof stream !== 'function') throw new WormholeError('Usage', `${item.name}: to send several items to this peer (one zip), each file needs stream as a function`);
    return [{ path: item.path ?? item.name, type: 'file' as const, size: item.size, open: stream, ...(item.mtimeMs !== undefined ? { mtimeMs: item.mtimeMs } : {}), ...(item.mode !== undefined ? { mode: item.mode } : {}) }];
  });
  return sendDirectory(w, { name: options.fallbackName ?? 'burrow-files', entries }, { ...base, ...progress, ...level });
}

/** The sending end of one files-v1 transfer. */
class FilesSender {
  readonly #w: Wormhole;
  readonly #files: readonly Outgoing[];
  readonly #dirs: readonly string[];
  readonly #options: SendFilesOptions;
  readonly #results = new Map<number, FileResult>();
  /** What we sent of each file whose `ok` has not arrived: confirmed by the `ok`, or by the receiver's list in `resume`/`done`. */
  readonly #sent = new Map<number, FileResult>();
  #accepted = new Set<number>();
  #meter: FilesMeter | undefined;
  #reconnects = 0;
  #stats: ConnectionStats | undefined;

  constructor(w: Wormhole, files: readonly Outgoing[], dirs: readonly string[], options: SendFilesOptions) {
    this.#w = w;
    this.#files = files;
    this.#dirs = dirs;
    this.#options = options;
  }

  #hasher(): Hasher {
    return (this.#options.createHash ?? createSha256)();
  }

  async #connect(): Promise<Connection> {
    const { signal } = this.#options;
    const conn = await this.#w.connect({ ...this.#options.connect, ...(signal ? { signal } : {}) });
    announce(this.#options, conn);
    return conn;
  }

  async run(): Promise<FilesResult> {
    const { signal } = this.#options;
    let conn: Connection | undefined;
    const onAbort = () => void conn?.close('aborted').catch(bestEffort);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const total = this.#files.reduce((n, f) => n + f.size, 0);
      sendAppMessage(this.#w, encodeFilesStart({ files: this.#files.length, bytes: total }));
      conn = await this.#connect();
      const control = await io(() => conn!.openStream());
      const writer = control.writable.getWriter();
      await io(() => writeFrame(writer, encodeOffer(this.#files, this.#dirs)));
      const reader = new FramedReader(control.readable, signal);
      const answer = await io(() => reader.frame(FILES_LIMITS.maxFrame + this.#files.length * 12));
      if (!answer) throw new WormholeError('Connection', 'the receiver closed the connection before answering the offer');
      const msg = parseControl(answer);
      if (msg.type === 'reject') throw new WormholeError('Rejected', `the receiver refused: ${msg.reason}`, { blame: 'peer' });
      if (msg.type !== 'accept') throw new WormholeError('RemoteProtocol', `files-v1: expected accept or reject, got ${msg.type}`, { blame: 'peer' });
      for (const i of msg.files) if (i >= this.#files.length) throw new WormholeError('RemoteProtocol', `files-v1: accepted file ${i} was not offered`, { blame: 'peer' });
      this.#accepted = new Set(msg.files);
      const meter = new FilesMeter(
        [...this.#accepted].reduce((n, i) => n + this.#files[i]!.size, 0),
        this.#accepted.size,
        this.#options.onProgress,
        this.#options.progressIntervalMs,
      );
      this.#meter = meter;
      meter.via = conn.kind;
      let round: { reader: FramedReader; writer: WritableStreamDefaultWriter<Uint8Array> } | undefined = { reader, writer };
      const maxReconnects = this.#options.reconnects ?? FILES_DEFAULTS.reconnects;
      for (;;) {
        try {
          await this.#serve(conn, round);
          break;
        } catch (err) {
          // Every file's `ok` came before the connection went: the receiver holds them all, only its `done` was lost.
          if (isConnectionLoss(err) && !signal?.aborted && this.#results.size === this.#accepted.size) break;
          if (!isConnectionLoss(err) || signal?.aborted || this.#reconnects >= maxReconnects) throw err;
          this.#reconnects++;
          await conn.close('lost').catch(bestEffort);
          conn = await this.#connect();
          meter.via = conn.kind;
          round = undefined;
        }
      }
      meter.finish();
      const files = [...this.#accepted].sort((a, b) => a - b).map((i) => this.#results.get(i)!);
      const stats = this.#stats;
      return {
        files,
        bytes: meter.total,
        moved: meter.moved,
        via: conn.kind,
        connection: stats?.path ?? conn.kind,
        reconnects: this.#reconnects,
        elapsedMs: meter.elapsedMs,
      };
    } catch (err) {
      const e = finalError(err, signal);
      tellPeer(this.#w, e);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await conn?.close().catch(bestEffort);
    }
  }

  /**
   * Serve one connection until the receiver says `done`. On a reconnect the
   * receiver's first stream is the control stream (`resume`). Throws a
   * connection-loss error if the connection goes before `done`.
   */
  async #serve(conn: Connection, round: { reader: FramedReader; writer: WritableStreamDefaultWriter<Uint8Array> } | undefined): Promise<void> {
    const watchdog = new Watchdog(this.#options.stallTimeoutMs ?? FILES_DEFAULTS.idleMs);
    const signal = AbortSignal.any([watchdog.signal, ...(this.#options.signal ? [this.#options.signal] : [])]);
    // The connection going ends the round like a stall does (the receiver then reconnects).
    const lost = () => watchdog.stop(new WormholeError('Connection', 'the connection to the receiver was lost'));
    conn.closed.then(lost, lost);
    const incoming = conn.incoming[Symbol.asyncIterator]();
    const handlers: Promise<void>[] = [];
    try {
      if (!round) {
        const first = await io(() => withSignal(incoming.next(), signal));
        if (first.done) throw new WormholeError('Connection', 'the connection closed before the receiver resumed');
        const reader = new FramedReader(first.value.readable, signal);
        const frame = await io(() => reader.frame(FILES_LIMITS.maxFrame));
        const resume = frame ? parseControl(frame) : undefined;
        if (resume?.type !== 'resume') throw new WormholeError('RemoteProtocol', 'files-v1: a reconnect must begin with resume', { blame: 'peer' });
        this.#confirm(resume.files);
        round = { reader, writer: first.value.writable.getWriter() };
      }
      const control = round;
      const accepting = (async () => {
        for (;;) {
          const next = await withSignal(incoming.next(), signal);
          if (next.done) return;
          watchdog.touch();
          // A lost connection is the round's to notice; anything else (a source that broke its promise) ends the transfer.
          const fail = (err: unknown) => void (isConnectionLoss(err) || signal.aborted || watchdog.stop(err));
          handlers.push(this.#serveFile(next.value, signal, watchdog).catch(fail));
        }
      })();
      accepting.catch(bestEffort);
      let msg: ControlMessage;
      for (;;) {
        const frame = await io(() => withSignal(Promise.race([control.reader.frame(FILES_LIMITS.maxFrame), accepting.then(() => undefined)]), signal));
        if (!frame) throw new WormholeError('Connection', 'the connection closed before the receiver was done');
        msg = parseControl(frame);
        if (msg.type !== 'busy') break;
        watchdog.touch(); // the receiver is hashing what it holds
      }
      if (msg.type === 'reject') throw new WormholeError('Rejected', `the receiver stopped: ${msg.reason}`, { blame: 'peer' });
      if (msg.type !== 'done') throw new WormholeError('RemoteProtocol', `files-v1: unexpected ${msg.type} on the control stream`, { blame: 'peer' });
      // Its list names every file it committed (their `ok`s may still be on the way, or lost with an old connection).
      this.#confirm(msg.files);
      const missing = [...this.#accepted].filter((i) => !this.#results.has(i));
      if (missing.length) throw new WormholeError('RemoteProtocol', `files-v1: the receiver said done with ${missing.length} files not confirmed`, { blame: 'peer' });
      // The path's stats before our close lets the receiver close the connection.
      this.#stats = await conn.getStats().catch(() => undefined);
      await control.writer.close().catch(bestEffort);
    } catch (err) {
      throw signal.aborted && !this.#options.signal?.aborted ? watchdog.signal.reason : err;
    } finally {
      watchdog.stop(new WormholeError('Closed', 'this round of the transfer is over'));
      conn.closed.then(bestEffort, bestEffort);
      await Promise.allSettled(handlers);
    }
  }

  /** The receiver committed `files`: each becomes a result (only files we sent whole, with their hash, can). */
  #confirm(files: readonly number[]): void {
    for (const i of files) {
      const sent = this.#sent.get(i);
      if (!sent || this.#results.has(i)) continue;
      this.#results.set(i, sent);
      if (this.#meter) {
        this.#meter.filesDone++;
        this.#meter.tick();
      }
    }
  }

  /** Answer one `get`: check the prefix the receiver holds, then send the rest and the whole file's SHA-256. */
  async #serveFile(stream: DuplexStream, signal: AbortSignal, watchdog: Watchdog): Promise<void> {
    const reader = new FramedReader(stream.readable, signal);
    const writer = stream.writable.getWriter();
    let hashers: FileHashers | undefined;
    try {
      const frame = await io(() => reader.frame(FILES_LIMITS.maxFrame));
      if (!frame) return;
      const get = parseFileStream(frame);
      if (get.type !== 'get' || !this.#accepted.has(get.file)) {
        await writeFrame(writer, { error: get.type === 'get' ? `file ${get.file} was not accepted` : `expected get, got ${get.type}` });
        return;
      }
      const file = this.#files[get.file]!;
      if (get.offset > file.size) {
        await writeFrame(writer, { error: `offset ${get.offset} is past the end of ${file.path} (${file.size} bytes)` });
        return;
      }
      hashers = new FileHashers(this.#options.createHash, file.size);
      const whole = await hashers.make();
      let source = file.open().getReader();
      // A source that stops producing must not hold the round: cancelling settles its pending read.
      const cancel = () => void source.cancel(signal.reason).catch(bestEffort);
      signal.addEventListener('abort', cancel, { once: true });
      let pending: Uint8Array | undefined;
      let offset = 0;
      if (get.offset > 0 && get.sha256 !== undefined) {
        // Hash the prefix the receiver holds; keep reading on if it matches.
        const prefix = this.#hasher(); // its digest is compared at once: here, not in a Worker
        const busy = busySignal((frame) => writer.write(frame), watchdog.idleMs);
        let read = 0;
        while (read < get.offset) {
          const r = await source.read();
          if (r.done) break;
          const take = Math.min(r.value.length, get.offset - read);
          prefix.update(r.value.subarray(0, take));
          whole.update(r.value.subarray(0, take));
          read += take;
          watchdog.touch();
          busy(read);
          if (take < r.value.length) pending = r.value.subarray(take);
        }
        if (read === get.offset && prefix.hexDigest() === get.sha256) offset = get.offset;
        else {
          source.cancel().catch(bestEffort);
          source = file.open().getReader();
          pending = undefined;
        }
      }
      const hasher = offset > 0 ? whole : await hashers.make();
      await io(() => writeFrame(writer, { send: { file: get.file, offset } }));
      this.#meter?.place(get.file, offset);
      let sent = offset;
      const push = async (chunk: Uint8Array) => {
        if (sent + chunk.length > file.size) throw new WormholeError('TransferFailed', `${file.path} is longer than the ${file.size} bytes offered`, { blame: 'local' });
        hasher.update(chunk);
        await io(() => writer.write(chunk));
        sent += chunk.length;
        this.#meter?.add(get.file, chunk.length);
        watchdog.touch();
      };
      try {
        if (pending) await push(pending);
        for (;;) {
          const r = await source.read();
          if (r.done) break;
          await push(r.value);
        }
      } finally {
        signal.removeEventListener('abort', cancel);
        source.cancel().catch(bestEffort);
      }
      signal.throwIfAborted();
      if (sent !== file.size) throw new WormholeError('TransferFailed', `${file.path} ended after ${sent} of ${file.size} bytes`, { blame: 'local' });
      const sha256 = await hasher.hexDigest();
      // Known before the receiver can commit (and name it in resume/done).
      this.#sent.set(get.file, { path: file.path, size: file.size, sha256, resumedFrom: offset });
      await io(() => writeFrame(writer, { sha256 }));
      const answer = await io(() => reader.frame(FILES_LIMITS.maxFrame));
      if (answer && parseFileStream(answer).type === 'ok') this.#confirm([get.file]);
      await writer.close().catch(bestEffort);
    } catch (err) {
      await writer.abort(err).catch(bestEffort);
      throw err;
    } finally {
      hashers?.dispose();
      reader.dispose();
    }
  }
}
