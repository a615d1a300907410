/**
 * The hashcash search as a Worker serves it: one job `{ prefix, bits }` in,
 * `{ stamp }` out (searchStamp in slices until it finds one). Runs in the
 * bundled Worker (hashcash-worker-source.ts) and nowhere else.
 */
import { searchStamp } from '@burrow/protocol';

/** A job for the hashcash Worker. */
export interface HashcashJob {
  readonly prefix: string;
  readonly bits: number;
}

/** What the Worker scope offers us (typed here: the client's tsconfig has DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: { data: HashcashJob }) => void) | null;
  postMessage(message: { stamp: string }): void;
}

/** Answer each job with its stamp. */
export function serveHashcashJobs(scope: WorkerScope): void {
  scope.onmessage = ({ data }) => {
    for (let from = 0; ; ) {
      const found = searchStamp(data.prefix, data.bits, from, 1 << 16);
      if (found.stamp !== undefined) return scope.postMessage({ stamp: found.stamp });
      from = found.next;
    }
  };
}
