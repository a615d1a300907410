/**
 * The seam that keeps the Worker pool out of the initial bundle: streams
 * that forward to the pooled record streams (record-pipeline.ts) once that
 * module has loaded on the first transfer, and the transfer's hasher, in a
 * Worker where Workers run (worker-hasher.ts, loaded likewise).
 */
import { createSha256, type Hasher } from '@burrow/protocol';
import type { AsyncHasher } from './worker-hasher.js';

/** True where records can go to Workers started from a Blob URL. */
export function workersAvailable(): boolean {
  return typeof Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function' && typeof URL.createObjectURL === 'function';
}

/** A transfer's hasher: synchronous, or in a Worker (its digest a promise; `dispose` stops the Worker). */
export type TransferHasher = Hasher | AsyncHasher;

/** SHA-256 for a transfer's end-to-end check: in a Worker of its own where Workers run, else here. */
export async function transferSha256(): Promise<TransferHasher> {
  if (!workersAvailable()) return createSha256();
  const { workerSha256 } = await import('./worker-hasher.js');
  return workerSha256();
}

/** A readable that reads from `inner` once it exists (errors and end pass through). */
export function forwardReadable(inner: Promise<ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  const reader = inner.then((s) => s.getReader());
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const r = await (await reader).read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel(reason) {
        await (await reader).cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A writable that writes to `inner` once it exists. */
export function forwardWritable(inner: Promise<WritableStream<Uint8Array>>): WritableStream<Uint8Array> {
  const writer = inner.then((s) => s.getWriter());
  return new WritableStream<Uint8Array>(
    {
      async write(chunk) {
        await (await writer).write(chunk);
      },
      async close() {
        await (await writer).close();
      },
      async abort(reason) {
        await (await writer).abort(reason);
      },
    },
    { highWaterMark: 1 },
  );
}
