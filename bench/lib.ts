/**
 * Benchmark helpers. Every suite measures a baseline in the same run and
 * reports ratios against it: absolute numbers on a shared 2-core VM are noise,
 * ratios measured side by side are not (as much).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export interface Sample {
  readonly name: string;
  readonly values: readonly number[];
  readonly unit: string;
}

/** A positive number from the environment variable `name`, or `fallback` when unset or empty. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Time `fn` `runs` times (after `warmup` runs) and return milliseconds per run. */
export async function timeRuns(runs: number, fn: () => Promise<unknown> | unknown, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Run `fn` `runs` times (after `warmup` runs); `fn` measures itself and returns milliseconds. */
export async function repeat(runs: number, fn: () => Promise<number>, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/**
 * Print a table of samples with the ratio of each median to the baseline's.
 * `higherIsBetter` flips the ratio so that > 1 always means "better than baseline".
 */
export function report(title: string, samples: readonly Sample[], baseline: string, higherIsBetter = false): void {
  const base = samples.find((s) => s.name === baseline);
  if (!base) throw new Error(`baseline ${baseline} missing`);
  const b = median(base.values);
  const rows = samples.map((s) => {
    const m = median(s.values);
    const ratio = higherIsBetter ? m / b : b / m;
    return {
      case: s.name,
      runs: s.values.length,
      median: `${fmt(m)} ${s.unit}`,
      p90: `${fmt(quantile(s.values, 0.9))} ${s.unit}`,
      [`vs ${baseline}`]: `${ratio.toFixed(2)}×`,
    };
  });
  console.log(`\n## ${title}\n(ratio > 1 means better than ${baseline})`);
  console.table(rows);
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** `bytes` random bytes as lowercase hex (tokens, sides, message bodies of a given size). */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const FREE_PAGE_DELAY = '/sys/module/page_reporting/parameters/min_free_ms';

/**
 * Keep freed memory in the guest while the benchmarks run. This VM hands
 * freed pages back to its host almost at once (virtio-balloon free page
 * reporting; the kernel's `page_reporting.min_free_ms` is 0): memory touched
 * again ~2 s after it was freed costs a host fault per page — writing 500 MB
 * into the page cache took 2.4–3.6 CPU-s after a 6 s pause, 0.1–0.2 s right
 * after the last file was deleted. Which case paid depended on how long its
 * processes took to start, not on what they do, so the ratios were noise
 * (CLI→Burrow 500 MB: 0.26× with it, 0.79× without). Where that setting
 * exists and may be written (root), it is raised to 60 s for the run and put
 * back by the returned function; otherwise a line says the numbers may carry
 * this noise.
 */
export function holdFreedMemory(): () => void {
  const nothing = () => undefined;
  let before: string;
  try {
    before = readFileSync(FREE_PAGE_DELAY, 'utf8').trim();
  } catch {
    return nothing; // no free page reporting here
  }
  if (Number(before) >= 60_000) return nothing;
  try {
    writeFileSync(FREE_PAGE_DELAY, '60000');
  } catch (err) {
    console.log(`(free page reporting returns freed memory to the host at once here, and ${FREE_PAGE_DELAY} cannot be raised: ${(err as Error).message}; fresh memory may cost host faults, numbers carry that noise)`);
    return nothing;
  }
  console.log(`(free page reporting: ${FREE_PAGE_DELAY} raised from ${before} to 60000 for this run, so freed memory is reused warm)`);
  return () => {
    try {
      writeFileSync(FREE_PAGE_DELAY, before);
    } catch {
      // put back by hand: echo <before> > FREE_PAGE_DELAY
    }
  };
}
