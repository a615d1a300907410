/**
 * The queue behind `w.nextMessage()`: messages the peer sent, in order, each
 * to exactly one caller. A caller whose signal fires is removed at once, so
 * a message arriving in the same task goes to the next caller instead of a
 * dead waiter. Once failed, every waiting and later call rejects.
 */
import { abortError, deferred, type Deferred, type WormholeError } from '@burrow/protocol';

export class MessageInbox {
  readonly #ready: Uint8Array[] = [];
  readonly #waiters: Deferred<Uint8Array>[] = [];
  #failure: WormholeError | undefined;

  /** A message from the peer: to the oldest waiter, or queued. */
  push(message: Uint8Array): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.#ready.push(message);
  }

  /** The next message; queued messages are still delivered after a failure. */
  next(signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const ready = this.#ready.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#failure) return Promise.reject(this.#failure);
    const d = deferred<Uint8Array>();
    this.#waiters.push(d);
    if (!signal) return d.promise;
    const onAbort = () => {
      const i = this.#waiters.indexOf(d);
      if (i >= 0) this.#waiters.splice(i, 1);
      d.reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return d.promise.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Reject every waiting call, and every later one once the queue is empty. The first reason wins. */
  fail(reason: WormholeError): void {
    this.#failure ??= reason;
    for (const w of this.#waiters.splice(0)) w.reject(reason);
  }
}
