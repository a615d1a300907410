/**
 * The Worker side of the record pool (record-pool.ts): seals or opens a run of
 * consecutive Transit records per message with the pure-JS secretbox, the nonce being the
 * record's counter. Bundled on its own into record-worker-source.ts (by
 * scripts/record-worker.ts) so the pool can start it from a
 * Blob URL, whatever bundled the page.
 */
import { nobleSecretBox, recordNonce, sealRecord } from '@burrow/protocol';
import type { RecordJob, RecordJobResult } from './record-job.js';

/** Run one job (also the main-thread fallback of the pool). */
export function runRecordJob(job: RecordJob): RecordJobResult {
  const out = job.items.map((data, i) => {
    const nonce = recordNonce(job.index + i);
    return (job.op === 'seal' ? sealRecord(nobleSecretBox, job.key, nonce, data) : nobleSecretBox.open(data, nonce, job.key)) ?? null;
  });
  return { id: job.id, out };
}

interface WorkerScope {
  onmessage: ((e: { data: RecordJob }) => void) | null;
  postMessage(message: RecordJobResult, transfer: ArrayBuffer[]): void;
}

/** Install the message handler when running as a Worker. */
export function serveRecordJobs(scope: WorkerScope): void {
  scope.onmessage = (e) => {
    const result = runRecordJob(e.data);
    scope.postMessage(result, result.out.flatMap((o) => (o ? [o.buffer as ArrayBuffer] : [])));
  };
}
