/**
 * Echo only what is saved: the mailbox core's frames wait here until the
 * store has made the changes that caused them durable.
 *
 * Every frame the core handles gives effects (frames to send, log events)
 * and store changes. Entries without changes pass straight through when
 * nothing is waiting; the rest queue, and once per event-loop turn
 * everything queued is committed as one batch (several `add`s that arrive
 * together cost one transaction) and then delivered in order.
 *
 * A failed commit is never silent: the clients whose frames made those
 * changes get an `error` (through `refuse`), `health()` says so, and the
 * changes stay queued and go again — with the next frame, or after
 * `retryMs` — so saving resumes by itself when the fault clears.
 */
import type { Logger } from '@burrow/protocol';
import type { ConnId, MailboxEffect, StoreChange } from '@burrow/protocol/server';
import type { MailboxStore } from './store.js';
import { LatencyHistogram, type LatencySnapshot } from './latency.js';

/** One handled frame (or connect, disconnect, prune): what it says and what it changed. */
export interface OutboxEntry {
  readonly effects: readonly MailboxEffect[];
  readonly changes: readonly StoreChange[];
  /** The client frame that caused it, if any (who to tell when saving fails). */
  readonly origin?: { readonly conn: ConnId; readonly data: string | Uint8Array };
}

/** Whether the store is keeping up (served in `/health`). */
export interface StoreHealth {
  /** False while the last commit failed. */
  readonly ok: boolean;
  /** Batches saved since start. */
  readonly commits: number;
  /** Commits that failed since start. */
  readonly failures: number;
  /** Changes not yet saved (queued, in flight, or failed and waiting to go again). */
  readonly pending: number;
  /** The failure, while failing. */
  readonly error?: string;
  /** When saving started failing (ms since the epoch), while failing. */
  readonly failingSince?: number;
  /** How long successful commits took. */
  readonly latency?: LatencySnapshot;
}

export interface OutboxOptions {
  readonly store: MailboxStore;
  /** Send these effects now. */
  readonly deliver: (effects: readonly MailboxEffect[]) => void;
  /** The store refused what `entry` changed: tell its client (entry.origin is set). */
  readonly refuse: (entry: OutboxEntry, error: unknown) => void;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Try a failed commit again after this long without traffic (default 1 s). */
  readonly retryMs?: number;
}

export class DurableOutbox {
  readonly #o: OutboxOptions;
  #queue: OutboxEntry[] = [];
  /** Changes of failed commits, first in line for the next one. */
  #unsaved: StoreChange[] = [];
  #inFlight = 0;
  #busy = false;
  #scheduled = false;
  #retry: NodeJS.Timeout | undefined;
  #idle: (() => void)[] = [];
  #commits = 0;
  readonly #latency = new LatencyHistogram();
  #failures = 0;
  #error: unknown;
  #failingSince: number | undefined;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  push(entry: OutboxEntry): void {
    const waiting = this.#queue.length > 0 || this.#busy || this.#unsaved.length > 0;
    if (!waiting && (entry.changes.length === 0 || (this.#o.store.inline === true && this.#commitNow(entry.changes)))) {
      this.#o.deliver(entry.effects);
      return;
    }
    this.#queue.push(entry);
    this.#schedule();
  }

  health(): StoreHealth {
    const pending = this.#unsaved.length + this.#inFlight + this.#queue.reduce((n, e) => n + e.changes.length, 0);
    const base = { ok: this.#failingSince === undefined, commits: this.#commits, failures: this.#failures, pending, latency: this.#latency.snapshot() };
    if (this.#failingSince === undefined) return base;
    return { ...base, error: String(this.#error), failingSince: this.#failingSince };
  }

  /** Resolves once everything pushed so far is saved and delivered; rejects while saving fails. */
  async settled(): Promise<void> {
    if (this.#busy || this.#scheduled || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#unsaved.length > 0) throw this.#error;
  }

  /** Save and deliver what is queued (one last try for anything failed); stop retrying. */
  async close(): Promise<void> {
    if (this.#unsaved.length > 0) this.#schedule();
    await this.settled().catch((err: unknown) => {
      this.#o.logger?.warn?.('mailbox-store.unsaved-at-close', { changes: this.#unsaved.length, error: String(err) });
    });
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** Commit an inline store's changes synchronously; false if it failed (the entry then queues and is refused). */
  #commitNow(changes: readonly StoreChange[]): boolean {
    try {
      void this.#o.store.commit(changes);
      this.#commits++;
      return true;
    } catch {
      return false;
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#busy) return; // the running drain picks the queue up
    this.#busy = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    try {
      while (this.#queue.length > 0 || this.#unsaved.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        const changes = this.#unsaved.concat(...batch.map((e) => e.changes));
        this.#unsaved = [];
        const error = await this.#commit(changes);
        if (error === undefined) {
          for (const entry of batch) this.#o.deliver(entry.effects);
          continue;
        }
        this.#unsaved = changes;
        for (const entry of batch) {
          if (entry.changes.length > 0 && entry.origin) this.#o.refuse(entry, error);
          else this.#o.deliver(entry.effects);
        }
        this.#retry = setTimeout(() => this.#schedule(), this.#o.retryMs ?? 1000);
        this.#retry.unref();
        break;
      }
    } finally {
      this.#busy = false;
      if (this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
      else this.#schedule();
    }
  }

  /** Commit `changes`; returns the failure, if any. */
  async #commit(changes: StoreChange[]): Promise<unknown> {
    if (changes.length === 0) return undefined;
    this.#inFlight = changes.length;
    const started = performance.now();
    try {
      const pending = this.#o.store.commit(changes);
      if (pending) await pending;
      this.#latency.observe(performance.now() - started);
    } catch (err) {
      this.#failures++;
      if (this.#failingSince === undefined) {
        this.#failingSince = (this.#o.now ?? Date.now)();
        this.#o.logger?.warn?.('mailbox-store.failing', { error: String(err) });
      }
      this.#error = err;
      return err ?? new Error('store commit failed');
    } finally {
      this.#inFlight = 0;
    }
    this.#commits++;
    if (this.#failingSince !== undefined) {
      this.#o.logger?.info?.('mailbox-store.recovered', { failures: this.#failures, failedForMs: (this.#o.now ?? Date.now)() - this.#failingSince });
      this.#failingSince = undefined;
      this.#error = undefined;
    }
    return undefined;
  }
}
