/**
 * How long the mailbox store takes to make a change durable (a SQLite
 * commit, a Redis append): a fixed-bucket histogram for `/metrics`
 * (`burrow_store_commit_seconds`) and the last/max for `/health`.
 */

/** Upper bounds of the buckets, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface LatencySnapshot {
  /** Cumulative counts per bucket of {@link LATENCY_BUCKETS} (then +Inf = `count`). */
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
  readonly lastMs: number;
  readonly maxMs: number;
}

export class LatencyHistogram {
  readonly #counts: number[] = LATENCY_BUCKETS.map(() => 0);
  #count = 0;
  #sum = 0;
  #last = 0;
  #max = 0;

  observe(ms: number): void {
    const s = ms / 1000;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (s <= LATENCY_BUCKETS[i]!) this.#counts[i]!++;
    this.#count++;
    this.#sum += s;
    this.#last = ms;
    if (ms > this.#max) this.#max = ms;
  }

  snapshot(): LatencySnapshot {
    return { buckets: [...this.#counts], count: this.#count, sumSeconds: this.#sum, lastMs: this.#last, maxMs: this.#max };
  }
}
