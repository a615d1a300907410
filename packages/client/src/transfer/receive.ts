/**
 * Receiving what `wormhole send` (or Burrow) offers:
 *
 *   const offer = await receiveOffer(w, { transit });
 *   switch (offer.type) {
 *     case 'message':   console.log(offer.message); break;           // already acknowledged
 *     case 'file':      await offer.accept(writableStream, { onProgress }); break;
 *     case 'directory': await offer.accept(directorySink); break;
 *   }
 *   // or: await offer.reject();
 *
 * Python's order is kept: our `transit` goes out as soon as theirs arrives
 * (always before our answer), the answer `file_ack` before connecting, and
 * the final `{"ack": "ok", "sha256": …}` record only after the sink has
 * committed the data.
 */
import { bestEffort } from '@burrow/protocol';
import {
  WormholeError,
  ZIPFILE_DEFLATED,
  encodeTransferAck,
  parseTransferMessage,
  safeOfferName,
} from '@burrow/protocol';
import { parseAppMessage, sendAppMessage } from '../app-messages.js';
import type { Wormhole } from '../wormhole.js';
import { TransitConnector } from '../transit/connector.js';
import { transferSha256, type TransferHasher } from '../transit/record-forward.js';
import type { TransitConnection } from '../transit/connection.js';
import { ProgressMeter, abortableCalls, deriveTransferKey, finalError, tellPeer, withAnnouncedRelays } from './common.js';
import { WRITE_BATCH, type DirectorySink, type FileSink, type TransferOptions, type TransferResult } from './types.js';
import type { ConnectOptions } from '../connection/connect.js';
import { FILES_V1 } from '../connection/advertise.js';
import type { FilesOffer } from './files/receive.js';

const MAX_SKIPPED = 16;

export interface ReceiveOfferOptions {
  signal?: AbortSignal;
  /** Used for the connection if a file or directory is accepted. */
  transit?: TransferOptions['transit'];
  /** Used for `w.connect()` when a Burrow peer offers files with files-v1. */
  connect?: ConnectOptions;
}

interface Decision {
  /** Refuse: the sender gets `{"error": reason}` (default "transfer rejected", like the CLI). */
  reject(reason?: string): Promise<void>;
}

export interface MessageOffer {
  readonly type: 'message';
  readonly message: string;
}

export interface FileOffer extends Decision {
  readonly type: 'file';
  /** Safe to use as a file name (last path component, never `.`/`..`). */
  readonly name: string;
  /** The name exactly as offered. */
  readonly offeredName: string;
  readonly size: number;
  /**
   * Receive into `sink`; it is closed on success (commit) and aborted on
   * failure. A sink with a {@link BatchWriter} (Node's `fileSink`) is
   * written through that instead.
   */
  accept(sink: FileSink, options?: TransferOptions): Promise<TransferResult>;
}

export interface DirectoryOffer extends Decision {
  readonly type: 'directory';
  readonly name: string;
  readonly offeredName: string;
  /** Bytes on the wire (the zip). */
  readonly zipSize: number;
  /** Bytes once unpacked (the sender's claim, enforced while unpacking). */
  readonly numBytes: number;
  readonly numFiles: number;
  accept(sink: DirectorySink, options?: TransferOptions): Promise<TransferResult>;
}

export type { FilesOffer };
export type IncomingOffer = MessageOffer | FileOffer | DirectoryOffer | FilesOffer;

/**
 * Wait for the sender's offer. A text is acknowledged and returned; a file
 * or directory must then be accepted or rejected exactly once.
 */
export async function receiveOffer(w: Wormhole, options: ReceiveOfferOptions = {}): Promise<IncomingOffer> {
  const { signal } = options;
  signal?.throwIfAborted();
  let connector: TransitConnector | undefined;
  const ensureConnector = async (transit: TransferOptions['transit'], s: AbortSignal | undefined): Promise<TransitConnector> => {
    if (!connector) {
      const key = await deriveTransferKey(w, s);
      connector = await TransitConnector.create({ role: 'receiver', key, ...(await withAnnouncedRelays(w, transit)) }, s ? { signal: s } : {});
      sendAppMessage(w, { transit: connector.message });
    }
    return connector;
  };
  try {
    for (let i = 0; i <= MAX_SKIPPED; i++) {
      const app = parseAppMessage(await w.nextMessage(signal ? { signal } : {}));
      if (app[FILES_V1] !== undefined) {
        // A Burrow sender with files-v1: the rest happens over w.connect() (loaded on demand).
        connector?.close();
        const { openFilesOffer, parseFilesStart } = await import('./files/receive.js');
        const start = parseFilesStart(app);
        if (!start) throw new WormholeError('RemoteProtocol', 'files-v1: malformed announcement', { blame: 'peer' });
        return await openFilesOffer(w, start, { ...(signal ? { signal } : {}), ...(options.connect ? { connect: options.connect } : {}) });
      }
      const msg = parseTransferMessage(app);
      if (msg.error !== undefined) throw new WormholeError('Rejected', `the sender gave up: ${msg.error}`);
      if (msg.transit) (await ensureConnector(options.transit, signal)).addPeerHints(msg.transit);
      const offer = msg.offer;
      if (!offer) continue;
      switch (offer.type) {
        case 'message':
          sendAppMessage(w, { answer: { message_ack: 'ok' } });
          connector?.close();
          return { type: 'message', message: offer.message };
        case 'unknown':
          sendAppMessage(w, { error: 'unknown offer type' });
          throw new WormholeError('RemoteProtocol', `the sender offered something unknown (${offer.keys.join(', ')})`);
        case 'file': {
          const name = safeName(w, offer.filename);
          let decided = false;
          const decide = () => {
            if (decided) throw new WormholeError('Usage', 'this offer was already accepted or rejected');
            decided = true;
          };
          return {
            type: 'file',
            name,
            offeredName: offer.filename,
            size: offer.filesize,
            reject: async (reason = 'transfer rejected') => {
              decide();
              reject(w, connector, reason);
            },
            accept: async (sink, opts = {}) => {
              decide();
              return receiveBulk(w, await ensureConnector(opts.transit ?? options.transit, opts.signal), offer.filesize, opts, sinkTarget(sink));
            },
          };
        }
        case 'directory': {
          if (offer.mode !== ZIPFILE_DEFLATED) {
            sendAppMessage(w, { error: 'unknown mode' });
            connector?.close();
            throw new WormholeError('RemoteProtocol', `unknown directory transfer mode '${offer.mode.slice(0, 64)}'`);
          }
          const name = safeName(w, offer.dirname);
          let decided = false;
          const decide = () => {
            if (decided) throw new WormholeError('Usage', 'this offer was already accepted or rejected');
            decided = true;
          };
          return {
            type: 'directory',
            name,
            offeredName: offer.dirname,
            zipSize: offer.zipsize,
            numBytes: offer.numbytes,
            numFiles: offer.numfiles,
            reject: async (reason = 'transfer rejected') => {
              decide();
              reject(w, connector, reason);
            },
            accept: async (sink, opts = {}) => {
              decide();
              const c = await ensureConnector(opts.transit ?? options.transit, opts.signal);
              return receiveBulk(w, c, offer.zipsize, opts, await directoryTarget(sink, offer.numbytes, offer.numfiles));
            },
          };
        }
      }
    }
    throw new WormholeError('RemoteProtocol', `the sender sent ${MAX_SKIPPED} messages without an offer`);
  } catch (err) {
    connector?.close();
    throw err;
  }
}

function safeName(w: Wormhole, offered: string): string {
  try {
    return safeOfferName(offered);
  } catch (err) {
    tellPeer(w, err as WormholeError);
    throw err;
  }
}

function reject(w: Wormhole, connector: TransitConnector | undefined, reason: string): void {
  connector?.close();
  try {
    sendAppMessage(w, { error: reason });
  } catch {
    // closed already
  }
}

/** Where received bytes go, with commit/abort. */
interface Target {
  /** The records of one read, in order (the target owns them). */
  push(chunks: readonly Uint8Array[]): Promise<void>;
  /** All bytes received: verify, make visible. */
  commit(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

function sinkTarget(sink: FileSink): Target {
  // Locked either way: nothing else may write to it meanwhile.
  const writer = sink.getWriter();
  const batch = sink[WRITE_BATCH];
  if (batch) {
    return { push: (chunks) => batch.write(chunks), commit: () => batch.close(), abort: (reason) => batch.abort(reason).catch(bestEffort) };
  }
  return {
    push: async (chunks) => {
      for (const c of chunks) await writer.write(c);
    },
    commit: () => writer.close(),
    abort: (reason) => writer.abort(reason).catch(bestEffort),
  };
}

/** The zip reader is loaded only when a directory is accepted (most transfers are texts and files). */
async function directoryTarget(sink: DirectorySink, numbytes: number, numfiles: number): Promise<Target> {
  const { ZipExtractor } = await import('./zip-extract.js');
  const zip = new ZipExtractor(sink, { numbytes, numfiles });
  return {
    push: async (chunks) => {
      for (const c of chunks) await zip.push(c);
    },
    commit: async () => {
      await zip.finish();
      await sink.commit();
    },
    abort: async (reason) => {
      await zip.abort();
      await sink.abort(reason).catch(bestEffort);
    },
  };
}

async function receiveBulk(w: Wormhole, connector: TransitConnector, total: number, options: TransferOptions, target: Target): Promise<TransferResult> {
  const { signal } = options;
  let conn: TransitConnection | undefined;
  /** Disposed in `finally` (a hashing Worker of a failed transfer stops). */
  let hashing: TransferHasher | undefined;
  const onAbort = () => conn?.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    sendAppMessage(w, { answer: { file_ack: 'ok' } });
    conn = await connector.connect(signal ? { signal } : {});
    // Hashing off the main thread where Workers run (a page); `createHash` overrides (Node: node:crypto).
    const hasher = options.createHash ? options.createHash() : await transferSha256();
    hashing = hasher;
    const meter = new ProgressMeter(total, options.onProgress, options.progressIntervalMs);
    // A batch per read from the connection (Node TCP: what one socket read brought, often several records): no per-record stream hop.
    const connection = conn;
    const reads = abortableCalls(() => connection.readRecords(), signal);
    try {
      await receiveRecords(reads.call, total, meter, hasher, target);
    } finally {
      reads.dispose();
    }
    await target.commit();
    meter.finish();
    const sha256 = await hasher.hexDigest();
    // The data is complete and committed; the ack is best effort (as in
    // Python): a sender that vanished now cannot undo a good transfer.
    const writer = conn.writable.getWriter();
    await writer.write(encodeTransferAck(sha256)).catch(bestEffort); // the file is complete and verified; a lost ack is the sender's to notice
    await writer.close().catch(bestEffort);
    return { bytes: total, sha256, via: conn.kind, connection: conn.description, elapsedMs: meter.elapsedMs };
  } catch (err) {
    const e = finalError(err, signal);
    await target.abort(e);
    tellPeer(w, e);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    conn?.close();
    connector.close();
    if (hashing && 'dispose' in hashing) hashing.dispose();
  }
}

/**
 * The hot loop of a bulk receive, apart from `receiveBulk` so that the JIT
 * optimizes this small function rather than all of the transfer's set-up
 * and error handling: read batches of records until `total` bytes, hash
 * them, hand them to the target.
 */
async function receiveRecords(
  read: () => Promise<Uint8Array[] | null>,
  total: number,
  meter: ProgressMeter,
  hasher: TransferHasher,
  target: Target,
): Promise<void> {
  while (meter.bytes < total) {
    const records = await read();
    if (records === null) throw new WormholeError('TransferFailed', `connection closed after ${meter.bytes} of ${total} bytes`);
    let bytes = 0;
    for (const r of records) bytes += r.length;
    if (meter.bytes + bytes > total) throw new WormholeError('RemoteProtocol', `the sender sent more than the ${total} bytes offered`);
    for (const r of records) hasher.update(r);
    await target.push(records);
    meter.add(bytes);
  }
}
