/**
 * SHA-256 of a transfer in a Worker of its own, so a page receiving (or
 * sending) a file does not hash on its main thread. Bytes are copied into
 * batches (a copy is cheap; a postMessage per record is not) and each full
 * batch is transferred to the Worker, which hashes them in order. The Worker
 * runs the record Worker's script (record-worker.ts), started from a Blob
 * URL. Until it has answered once, batches are kept (cloned, not
 * transferred): if it cannot start (e.g. a CSP refusing blob: workers) the
 * hash is finished on this thread from them.
 */
import { WormholeError, createSha256, deferred, type Hasher } from '@burrow/protocol';
import type { HashReply, HashRequest } from './record-job.js';
import { RECORD_WORKER_SOURCE } from './record-worker-source.js';

/** Bytes per message to the Worker. */
const BATCH = 256 * 1024;

/** A {@link Hasher} whose digest arrives asynchronously. */
export interface AsyncHasher {
  update(data: Uint8Array): void;
  /** Lowercase hex digest; call once. */
  hexDigest(): Promise<string>;
  /** Stop the Worker (after the digest it has stopped already; a transfer that failed calls this). */
  dispose(): void;
}

/**
 * SHA-256 in a Worker (where one cannot start, on this thread).
 *
 * @example
 * const h = workerSha256(); h.update(chunk); await h.hexDigest();
 */
export function workerSha256(): AsyncHasher {
  const digest = deferred<string>();
  let fallback: Hasher | undefined;
  /** Batches the Worker was sent before it answered (undefined once it has). */
  let kept: Uint8Array[] | undefined = [];
  let finishing = false;
  let worker: Worker | undefined;
  let url: string | undefined;
  const stop = () => {
    worker?.terminate();
    worker = undefined;
    if (url) URL.revokeObjectURL(url);
    url = undefined;
  };
  const post = (m: HashRequest, transfer: ArrayBuffer[] = []) => worker?.postMessage(m, transfer); // none once disposed
  /** The Worker did not start: hash what it was sent here, and the rest too. */
  const onThisThread = () => {
    fallback = createSha256();
    for (const b of kept ?? []) fallback.update(b);
    kept = undefined;
    stop();
    if (finishing) digest.resolve(fallback.hexDigest());
  };
  try {
    url = URL.createObjectURL(new Blob([RECORD_WORKER_SOURCE], { type: 'text/javascript' }));
    worker = new Worker(url);
    worker.onmessage = (e: MessageEvent<HashReply>) => {
      if (e.data.hash === 'started') kept = undefined;
      else {
        digest.resolve(e.data.hex);
        stop();
      }
    };
    worker.onerror = () => {
      if (kept) onThisThread();
      else {
        stop();
        digest.reject(new WormholeError('TransferFailed', 'the hashing worker failed'));
      }
    };
    post({ hash: 'start' });
  } catch {
    onThisThread();
  }

  let batch = new Uint8Array(BATCH);
  let fill = 0;
  const flush = () => {
    if (fill === 0) return;
    const data = batch.subarray(0, fill);
    if (fallback) fallback.update(data);
    else if (kept) {
      kept.push(data);
      post({ hash: 'update', data });
    } else post({ hash: 'update', data }, [data.buffer]);
    batch = new Uint8Array(BATCH);
    fill = 0;
  };
  return {
    update(data) {
      if (fallback) {
        flush(); // what was batched before the Worker failed comes first
        fallback.update(data);
        return;
      }
      for (let at = 0; at < data.length; ) {
        const n = Math.min(BATCH - fill, data.length - at);
        batch.set(data.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === BATCH) flush();
      }
    },
    hexDigest() {
      flush();
      finishing = true;
      if (fallback) digest.resolve(fallback.hexDigest());
      else post({ hash: 'digest' });
      return digest.promise;
    },
    dispose() {
      stop();
      digest.reject(new WormholeError('TransferFailed', 'the hasher was disposed'));
    },
  };
}
