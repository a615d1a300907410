/**
 * What the agent tells the world: its typed events (a fan-out to async
 * iterables) and its structured log lines, through one reporter so every
 * refusal is both logged and published, and never with a secret, a code, a
 * nonce or a proof in it.
 */
import type { Logger } from '@burrow/client';
import { shortId } from '@burrow/protocol/agent';
import type { PairingInfo } from '@burrow/store';
import type { Refusal, RefusalReason } from './policy.js';

export type AgentEvent =
  | { readonly type: 'listening'; readonly url: string }
  | { readonly type: 'paired'; readonly pairing: PairingInfo }
  | { readonly type: 'connected'; readonly pairing: PairingInfo; readonly origin: string; readonly via: 'local' | 'remote' }
  | { readonly type: 'disconnected'; readonly pairing: PairingInfo; readonly error?: string }
  | { readonly type: 'refused'; readonly reason: RefusalReason; readonly message: string; readonly pairingId?: string }
  | { readonly type: 'forward'; readonly pairing: PairingInfo; readonly to: string }
  | { readonly type: 'revoked'; readonly pairingId: string; readonly dropped: number }
  /** A remote rendezvous candidate was found squatted (a third side on its nameplate); the agent moved on. */
  | { readonly type: 'squat'; readonly pairingId: string; readonly window: number; readonly candidate: number }
  /** A revoked client was told, through the mailbox, that it was revoked. */
  | { readonly type: 'revocation-told'; readonly pairingId: string }
  | { readonly type: 'shutdown' };

/** The agent's log lines and events, side by side. */
export class AgentReporter {
  readonly events = new EventHub<AgentEvent>();
  readonly #logger: Logger | undefined;

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.#logger?.[level]?.(message, fields);
  }

  publish(event: AgentEvent): void {
    this.events.publish(event);
  }

  /** Log and publish a refusal. */
  refuse(refusal: Refusal, pairingId?: string): void {
    this.log('warn', 'agent.refused', { reason: refusal.reason, detail: refusal.message, ...(pairingId ? { pairing: shortId(pairingId) } : {}) });
    this.publish({ type: 'refused', reason: refusal.reason, message: refusal.message, ...(pairingId ? { pairingId } : {}) });
  }
}

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
