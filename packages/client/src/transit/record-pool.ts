/**
 * A small pool of Workers that seal and open Transit records off the page's
 * main thread, in parallel: a record's nonce is its counter, known before
 * the bytes are, so records can be processed anywhere and put back in order
 * (record-pipeline.ts). The Worker script is generated into
 * record-worker-source.ts and started from a Blob URL, so it works from the
 * ESM build, the script-tag build and any bundler. Where Workers cannot run
 * (none, or a CSP refusing blob: workers) jobs run on the main thread.
 */
import type { RecordJob, RecordJobResult } from './record-job.js';

/** Seals/opens runs of consecutive records, asynchronously. */
export interface RecordPool {
  /** `items` are records `index`, `index + 1`, …, each in a buffer of its own (they are transferred). */
  run(op: RecordJob['op'], key: Uint8Array, index: number, items: Uint8Array[]): Promise<readonly (Uint8Array | null)[]>;
  /** Give the pool back (its Workers stop when nobody holds it). */
  release(): void;
}

interface Pending {
  resolve(result: readonly (Uint8Array | null)[]): void;
  reject(err: unknown): void;
  /** Kept (not transferred) until the Workers have answered once, so it can be redone here if they never start. */
  job: RecordJob | undefined;
}

interface PoolState {
  workers: Worker[];
  next: number;
  users: number;
  url: string | undefined;
  jobs: Map<number, Pending>;
  broken: boolean;
  /** A Worker has answered: the script runs here, data may be transferred. */
  proven: boolean;
}

let shared: PoolState | undefined;
let jobIds = 0;

function poolSize(): number {
  const cores = typeof navigator === 'object' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, cores - 1));
}

async function mainThread(job: RecordJob): Promise<readonly (Uint8Array | null)[]> {
  const { runRecordJob } = await import('./record-worker.js');
  return runRecordJob(job).out;
}

async function start(state: PoolState): Promise<void> {
  const { RECORD_WORKER_SOURCE } = await import('./record-worker-source.js');
  if (state.users === 0 || state.workers.length > 0 || state.broken) return;
  try {
    state.url = URL.createObjectURL(new Blob([RECORD_WORKER_SOURCE], { type: 'text/javascript' }));
    for (let i = 0; i < poolSize(); i++) {
      const w = new Worker(state.url);
      w.onmessage = (e: MessageEvent<RecordJobResult>) => {
        state.proven = true;
        const pending = state.jobs.get(e.data.id);
        state.jobs.delete(e.data.id);
        pending?.resolve(e.data.out);
      };
      w.onerror = () => breakPool(state);
      state.workers.push(w);
    }
  } catch {
    breakPool(state);
  }
}

/** A Worker failed (e.g. refused by CSP): stop them all and finish on the main thread from now on. */
function breakPool(state: PoolState): void {
  state.broken = true;
  stop(state);
  const waiting = [...state.jobs.values()];
  state.jobs.clear();
  for (const p of waiting) {
    if (p.job) mainThread(p.job).then(p.resolve, p.reject);
    else p.reject(new Error('a transit record worker failed'));
  }
}

function stop(state: PoolState): void {
  for (const w of state.workers) w.terminate();
  state.workers = [];
  if (state.url) URL.revokeObjectURL(state.url);
  state.url = undefined;
}

/**
 * Take the shared pool (Workers start on first use). Call only where
 * {@link workersAvailable} (record-forward.ts); if they then fail to start,
 * jobs run on the main thread.
 */
export function acquireRecordPool(): RecordPool {
  const state = (shared ??= { workers: [], next: 0, users: 0, url: undefined, jobs: new Map(), broken: false, proven: false });
  state.users++;
  let starting: Promise<void> | undefined;
  let released = false;
  return {
    async run(op, key, index, items) {
      const job: RecordJob = { id: ++jobIds, op, key, index, items };
      if (!state.broken && state.workers.length === 0) await (starting ??= start(state));
      if (state.broken || state.workers.length === 0) return mainThread(job);
      const worker = state.workers[state.next++ % state.workers.length]!;
      return new Promise<readonly (Uint8Array | null)[]>((resolve, reject) => {
        const transfer = state.proven;
        state.jobs.set(job.id, { resolve, reject, job: transfer ? undefined : job });
        worker.postMessage(job, transfer ? items.map((d) => d.buffer as ArrayBuffer) : []);
      });
    },
    release() {
      if (released) return;
      released = true;
      if (--state.users === 0) {
        stop(state);
        // Nobody is left to wait for these.
        for (const p of state.jobs.values()) p.reject(new Error('the transit record pool was stopped'));
        state.jobs.clear();
        shared = undefined;
      }
    },
  };
}
