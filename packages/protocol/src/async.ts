/**
 * Signal and promise helpers shared by every package: one `withSignal`, one
 * `abortError`, one `deferred`. No timers, no globals touched at import:
 * they only use the promises and signals they are handed.
 */
import { WormholeError } from './errors.js';

/**
 * The part of `AbortSignal` these helpers use. Protocol is built without DOM
 * or Node types, so it names the shape; a real `AbortSignal` fits it.
 */
export interface SignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

interface AbortSignalStatics<S extends SignalLike> {
  any(signals: S[]): S;
}

/** A promise with its settle functions, for one-time facts. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  readonly settled: boolean;
}

/**
 * Create a deferred whose rejection is never reported as unhandled: the
 * error still reaches anyone who awaits `promise`.
 *
 *   const ready = deferred<void>();
 *   socket.onopen = () => ready.resolve();
 *   await withSignal(ready.promise, signal);
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {
    /* a one-time fact nobody awaited is not an error of the program */
  });
  return {
    promise,
    get settled() {
      return settled;
    },
    resolve(value) {
      if (settled) return;
      settled = true;
      resolve(value);
    },
    reject(error) {
      if (settled) return;
      settled = true;
      reject(error);
    },
  };
}

/**
 * Race a promise against an AbortSignal; the listener is always removed.
 * Rejects with {@link abortError} of the signal (`Aborted` or `Timeout`).
 */
export async function withSignal<T>(promise: Promise<T>, signal: SignalLike | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) throw abortError(signal);
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The error for an aborted signal: `Timeout` for `AbortSignal.timeout`, else `Aborted`. */
export function abortError(signal: SignalLike): WormholeError {
  const reason: unknown = signal.reason;
  if (reason instanceof WormholeError) return reason;
  const timedOut = typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
  return timedOut
    ? new WormholeError('Timeout', 'the operation timed out', { cause: reason })
    : new WormholeError('Aborted', 'the operation was aborted', { cause: reason });
}

/** One signal that fires when any of `signals` does (undefined entries skipped). */
export function anySignal<S extends SignalLike>(...signals: (S | undefined)[]): S | undefined {
  const list = signals.filter((s): s is S => s !== undefined);
  if (list.length <= 1) return list[0];
  // Looked up when called (never at import): AbortSignal.any is in every
  // runtime Burrow supports (browsers since 2023, Node >= 20.3, Deno).
  const statics = (globalThis as unknown as { AbortSignal: AbortSignalStatics<S> }).AbortSignal;
  return statics.any(list);
}

/**
 * Named decisions to ignore a rejection, so each call site says which one it
 * makes (`.catch(bestEffort)`) instead of a bare `() => {}`.
 *
 * `bestEffort`: tearing down a stream, socket or session that may already be
 * closed or failed; its failure is reported where it matters (a `closed`
 * promise, the call's own error), not by the teardown.
 */
export function bestEffort(): void {
  /* teardown of something that may already be gone: nothing more to report */
}

/**
 * `observed`: the promise is also returned to, or awaited by, someone who
 * sees its rejection; this only keeps an early rejection from being reported
 * as unhandled in the meantime.
 */
export function observed(): void {
  /* the holder of the promise sees the rejection */
}
