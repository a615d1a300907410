/**
 * The Worker side of the record pool (record-pool.ts): seals or opens a run of
 * consecutive Transit records per message with the pure-JS secretbox, the nonce being the
 * record's counter. The same script, started on its own, is a hashing Worker
 * (worker-hasher.ts): SHA-256 of the batches it is sent, in order. Bundled on
 * its own into record-worker-source.ts (by scripts/record-worker.ts) so the
 * pool can start it from a Blob URL, whatever bundled the page.
 */
import { createSha256, nobleSecretBox, recordNonce, sealRecord, type Hasher } from '@burrow/protocol';
import type { HashReply, HashRequest, RecordJob, RecordJobResult } from './record-job.js';

/** Run one job (also the main-thread fallback of the pool). */
export function runRecordJob(job: RecordJob): RecordJobResult {
  const out = job.items.map((data, i) => {
    const nonce = recordNonce(job.index + i);
    return (job.op === 'seal' ? sealRecord(nobleSecretBox, job.key, nonce, data) : nobleSecretBox.open(data, nonce, job.key)) ?? null;
  });
  return { id: job.id, out };
}

interface WorkerScope {
  onmessage: ((e: { data: RecordJob | HashRequest }) => void) | null;
  postMessage(message: RecordJobResult | HashReply, transfer?: ArrayBuffer[]): void;
}

/**
 * Install the message handler when running as a Worker. `hasher` makes the
 * SHA-256 of a hashing Worker (default: noble); messages that arrive while
 * it is being made wait for it, in order.
 */
export function serveRecordJobs(scope: WorkerScope, hasher: () => Promise<Hasher> = () => Promise.resolve(createSha256())): void {
  let hashing: Promise<Hasher | undefined> = Promise.resolve(undefined);
  scope.onmessage = (e) => {
    const m = e.data;
    if ('hash' in m) {
      if (m.hash === 'start') {
        hashing = hasher();
        scope.postMessage({ hash: 'started' });
      } else if (m.hash === 'update') {
        const data = m.data;
        hashing = hashing.then((h) => (h?.update(data), h));
      } else {
        hashing = hashing.then((h) => {
          if (h) scope.postMessage({ hash: 'digest', hex: h.hexDigest() });
          return undefined;
        });
      }
      return;
    }
    const result = runRecordJob(m);
    scope.postMessage(result, result.out.flatMap((o) => (o ? [o.buffer as ArrayBuffer] : [])));
  };
}
