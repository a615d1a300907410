/**
 * A small fan-out of events to async iterables. Each subscriber sees the
 * events published after it subscribed, in order; a subscriber that stops
 * reading loses the oldest events beyond a bound rather than growing forever.
 * Subscribers never run inside the publisher: they are resolved promises.
 */
export class EventHub<E> {
  readonly #subscribers = new Set<{ queue: E[]; wake: (() => void) | undefined }>();
  readonly #bound: number;
  #ended = false;

  constructor(bound = 1000) {
    this.#bound = bound;
  }

  publish(event: E): void {
    if (this.#ended) return;
    for (const s of this.#subscribers) {
      s.queue.push(event);
      if (s.queue.length > this.#bound) s.queue.shift();
      s.wake?.();
    }
  }

  /** End every iteration (after the events already queued). */
  end(): void {
    this.#ended = true;
    for (const s of this.#subscribers) s.wake?.();
  }

  subscribe(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<E> {
    const sub: { queue: E[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
    const { signal } = options;
    let done = this.#ended || signal?.aborted === true;
    const stop = () => {
      done = true;
      sub.queue.length = 0;
      this.#subscribers.delete(sub);
      signal?.removeEventListener('abort', onAbort);
      sub.wake?.();
    };
    const onAbort = () => stop();
    if (!done) {
      this.#subscribers.add(sub);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    const iterator: AsyncIterableIterator<E> = {
      next: async () => {
        for (;;) {
          if (done) return { value: undefined, done: true };
          const event = sub.queue.shift();
          if (event !== undefined) return { value: event, done: false };
          if (this.#ended) {
            stop();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = undefined;
        }
      },
      return: async () => {
        stop();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
