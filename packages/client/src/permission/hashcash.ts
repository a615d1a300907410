/**
 * Solve a mailbox server's hashcash challenge (`permission-required`) before
 * bind. In browsers the search runs in a Worker (started from a Blob URL of
 * the bundled hashcash-worker-source.ts, like the record Workers); where
 * there is no Worker (Node) or it cannot start (a CSP refusing blob:
 * workers) it runs here, in slices that yield to the event loop. Both stop
 * when `signal` aborts.
 */
import { abortError, searchStamp, stampPrefix, type HashcashChallenge } from '@burrow/protocol';
import type { HashcashJob } from './hashcash-worker.js';

export interface SolveOptions {
  /** Random bytes for the stamp's rand field. */
  readonly random: (n: number) => Uint8Array;
  /** The clock for the stamp's date (default Date.now). */
  readonly now?: () => number;
  /** Use a Worker when one is available (default true). */
  readonly worker?: boolean;
  readonly signal?: AbortSignal;
}

/** Hashes tried between yields on the main thread (a few ms of work). */
const SLICE = 4096;

/** A stamp answering `challenge`. Rejects with the abort reason if `signal` aborts first. */
export async function solveHashcash(challenge: HashcashChallenge, options: SolveOptions): Promise<string> {
  options.signal?.throwIfAborted();
  const job: HashcashJob = { prefix: stampPrefix(challenge, (options.now ?? Date.now)(), options.random(16)), bits: challenge.bits };
  if (options.worker !== false && workersAvailable()) {
    const stamp = await inWorker(job, options.signal).catch((err: unknown) => {
      if (options.signal?.aborted) throw err;
      return undefined; // the Worker could not start: search here instead
    });
    if (stamp !== undefined) return stamp;
  }
  return onMainThread(job, options.signal);
}

function workersAvailable(): boolean {
  return typeof Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function';
}

async function onMainThread(job: HashcashJob, signal: AbortSignal | undefined): Promise<string> {
  for (let from = 0; ; ) {
    const found = searchStamp(job.prefix, job.bits, from, SLICE);
    if (found.stamp !== undefined) return found.stamp;
    from = found.next;
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (signal?.aborted) throw abortError(signal);
  }
}

async function inWorker(job: HashcashJob, signal: AbortSignal | undefined): Promise<string> {
  const { HASHCASH_WORKER_SOURCE } = await import('./hashcash-worker-source.js');
  signal?.throwIfAborted();
  const url = URL.createObjectURL(new Blob([HASHCASH_WORKER_SOURCE], { type: 'text/javascript' }));
  let worker: Worker | undefined;
  let onAbort: (() => void) | undefined;
  try {
    worker = new Worker(url);
    const w = worker;
    return await new Promise<string>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<{ stamp: string }>) => resolve(e.data.stamp);
      w.onerror = (e) => reject(new Error(`the hashcash worker failed: ${e.message}`));
      onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      w.postMessage(job);
    });
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    worker?.terminate();
    URL.revokeObjectURL(url);
  }
}
