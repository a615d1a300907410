/**
 * Sending files and directories the way `wormhole send` does:
 *
 *   transit hints → offer → (their transit, answer file_ack) → connect →
 *   the bytes as records → their last record {"ack": "ok", "sha256": …},
 *   checked against our own hash.
 *
 *   const w = await createWormhole({ mailbox });
 *   const code = await w.allocateCode();
 *   await sendFile(w, { name: f.name, size: f.size, stream: () => f.stream() }, { onProgress });
 */
import { bestEffort } from '@burrow/protocol';
import { WormholeError, directoryOffer, fileOffer, parseTransferAck, parseTransferMessage } from '@burrow/protocol';
import { parseAppMessage, sendAppMessage } from '../app-messages.js';
import type { Wormhole } from '../wormhole.js';
import { TransitConnector } from '../transit/connector.js';
import { transferSha256, type TransferHasher } from '../transit/record-forward.js';
import type { TransitConnection } from '../transit/connection.js';
import { Chunker, ProgressMeter, deriveTransferKey, finalError, readOne, tellPeer, withAnnouncedRelays } from './common.js';
import type { DirectorySource, FileSource, SendDirectoryOptions, SendOptions, TransferResult } from './types.js';

const DEFAULT_RECORD_SIZE = 64 * 1024;
const MAX_SKIPPED = 16;

/**
 * Send one file. Resolves once the receiver confirmed the bytes (and their
 * SHA-256); rejects with `Rejected` (refused), `TransferFailed`, `Aborted`,
 * `Timeout`, `RemoteProtocol` or `Connection`.
 */
export async function sendFile(w: Wormhole, file: FileSource, options: SendOptions = {}): Promise<TransferResult> {
  options.signal?.throwIfAborted();
  if (typeof file?.name !== 'string' || file.name === '') throw new WormholeError('Usage', 'file.name must be a non-empty string');
  if (!Number.isSafeInteger(file.size) || file.size < 0) throw new WormholeError('Usage', 'file.size must be a non-negative integer');
  return sendBulk(w, fileOffer(file.name, file.size), file.size, options, async (write, signal) => {
    const stream = typeof file.stream === 'function' ? file.stream() : file.stream;
    const reader = stream.getReader();
    let sent = 0;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const r = await reader.read();
        if (r.done) break;
        sent += r.value.length;
        if (sent > file.size) throw new WormholeError('TransferFailed', `${file.name} is longer than the ${file.size} bytes offered`, { blame: 'local' });
        await write(r.value);
      }
    } finally {
      reader.cancel().catch(bestEffort);
    }
    if (sent !== file.size) throw new WormholeError('TransferFailed', `${file.name} ended after ${sent} of ${file.size} bytes`, { blame: 'local' });
  });
}

/**
 * Send a directory as a zip (deflated, Unix modes, empty directories
 * included). Files are read once to size the zip for the offer; those
 * that did not fit the bounded spool of zip.ts are read again to send it.
 */
export async function sendDirectory(w: Wormhole, dir: DirectorySource, options: SendDirectoryOptions = {}): Promise<TransferResult> {
  options.signal?.throwIfAborted();
  if (typeof dir?.name !== 'string' || dir.name === '') throw new WormholeError('Usage', 'dir.name must be a non-empty string');
  // The zip writer is loaded only when a directory is sent.
  const { planZip, writeZip } = await import('./zip.js');
  let plan;
  try {
    plan = await planZip(dir, options.compressionLevel ?? 6, options.signal);
  } catch (err) {
    if (err instanceof RangeError) throw new WormholeError('Usage', err.message, { cause: err });
    throw err;
  }
  const offer = directoryOffer({ dirname: dir.name, zipsize: plan.zipsize, numbytes: plan.numbytes, numfiles: plan.numfiles });
  return sendBulk(w, offer, plan.zipsize, options, (write, signal) => writeZip(plan, write, signal));
}

async function sendBulk(
  w: Wormhole,
  offer: Record<string, unknown>,
  total: number,
  options: SendOptions,
  produce: (write: (bytes: Uint8Array) => Promise<void>, signal: AbortSignal | undefined) => Promise<void>,
): Promise<TransferResult> {
  const { signal } = options;
  const recordSize = options.recordSize ?? DEFAULT_RECORD_SIZE;
  if (!Number.isInteger(recordSize) || recordSize < 1 || recordSize > 16 * 1024 * 1024) {
    throw new WormholeError('Usage', 'recordSize must be an integer from 1 to 16 MiB');
  }
  const key = await deriveTransferKey(w, signal);
  const transit = await withAnnouncedRelays(w, options.transit);
  const connector = await TransitConnector.create({ role: 'sender', key, ...transit }, signal ? { signal } : {});
  let conn: TransitConnection | undefined;
  /** Disposed in `finally` (a hashing Worker of a failed transfer stops). */
  let hashing: TransferHasher | undefined;
  const onAbort = () => conn?.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Python's order: transit first, then the offer.
    sendAppMessage(w, { transit: connector.message });
    sendAppMessage(w, offer);
    await waitForAnswer(w, connector, signal);
    conn = await connector.connect(signal ? { signal } : {});
    const hasher = options.createHash ? options.createHash() : await transferSha256();
    hashing = hasher;
    const meter = new ProgressMeter(total, options.onProgress, options.progressIntervalMs);
    const writer = conn.writable.getWriter();
    const chunker = new Chunker(writer, recordSize);
    await produce(async (bytes) => {
      hasher.update(bytes);
      await chunker.write(bytes);
      meter.add(bytes.length);
    }, signal);
    await chunker.flush();
    writer.releaseLock();
    meter.finish();
    const ours = await hasher.hexDigest();
    const reader = conn.readable.getReader();
    const r = await readOne(reader, signal);
    if (r.done) throw new WormholeError('TransferFailed', 'the receiver closed the connection without confirming the transfer');
    const ack = parseTransferAck(r.value);
    if (!ack.ok) throw new WormholeError('TransferFailed', `the receiver reports a failure: ${ack.ack.slice(0, 200)}`);
    if (ack.sha256 !== undefined && ack.sha256 !== ours) {
      throw new WormholeError('TransferFailed', `hash mismatch: the receiver got sha256 ${ack.sha256}, we sent ${ours}`);
    }
    return { bytes: total, sha256: ours, via: conn.kind, connection: conn.description, elapsedMs: meter.elapsedMs };
  } catch (err) {
    const e = finalError(err, signal);
    tellPeer(w, e);
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    conn?.close();
    connector.close();
    if (hashing && 'dispose' in hashing) hashing.dispose();
  }
}

/** Process their messages until the answer: transit hints are added, an error or refusal rejects. */
async function waitForAnswer(w: Wormhole, connector: TransitConnector, signal: AbortSignal | undefined): Promise<void> {
  for (let i = 0; i <= MAX_SKIPPED; i++) {
    const msg = parseTransferMessage(parseAppMessage(await w.nextMessage(signal ? { signal } : {})));
    if (msg.error !== undefined) throw new WormholeError('Rejected', `the receiver refused: ${msg.error}`);
    if (msg.transit) connector.addPeerHints(msg.transit);
    if (msg.answer) {
      if (msg.answer.type === 'file_ack' && msg.answer.ok) return;
      const what = msg.answer.type === 'unknown' ? 'an unknown answer' : `${msg.answer.type}=${msg.answer.value}`;
      throw new WormholeError('Rejected', `the receiver did not accept the transfer (${what})`);
    }
  }
  throw new WormholeError('RemoteProtocol', `the receiver sent ${MAX_SKIPPED} messages without an answer`);
}
