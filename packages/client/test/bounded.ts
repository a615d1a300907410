/** Bounded waits for client tests: nothing a test awaits may hang it. */
import type { WormholeError } from '../src/index.js';

/** `p`, or a rejection once `ms` have passed (the deadline timer is always cleared). */
export async function bounded<T>(p: Promise<T>, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('test bound exceeded')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Settle `p` within the bound and return its rejection. Never rejects itself
 * (so a pending check cannot become an unhandled rejection); a resolution or
 * a timeout comes back as a plain Error, which the callers' assertions reject.
 */
export async function rejection(p: Promise<unknown>): Promise<WormholeError> {
  return bounded(p).then(
    () => new Error('expected a rejection, got a value') as WormholeError,
    (e: unknown) => e as WormholeError,
  );
}
