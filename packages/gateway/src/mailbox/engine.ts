/**
 * Where a mailbox service's inputs meet the sans-I/O {@link MailboxCore}.
 *
 * {@link LocalEngine}: here and now, one process (the memory and SQLite
 * paths): each input is applied at once and its output reported before the
 * call returns. The Redis engine (./redis-engine.ts) instead orders every
 * input through a shared log, so that several processes apply the same
 * inputs in the same order; its output comes later, when the input is read
 * back from the log.
 */
import type { StoreHealth } from './outbox.js';
import { MailboxCore, type ConnId, type MailboxCoreOptions, type MailboxCoreStats, type MailboxEffect, type SessionLimits, type StoreChange, type UsageRecord } from '@burrow/protocol/server';

/** What one applied input did: frames and logs, store changes, usage records. */
export interface EngineOutput {
  readonly effects: readonly MailboxEffect[];
  readonly changes: readonly StoreChange[];
  readonly usage: readonly UsageRecord[];
  /** The local connection and frame that caused it, if any. */
  readonly origin?: { readonly conn: ConnId; readonly data: string | Uint8Array };
}

/** How an engine reports back to its service. */
export interface EngineEvents {
  /** An input was applied. */
  output(out: EngineOutput): void;
  /** Applying a frame of local connection `conn` threw (a bug): drop that connection. */
  crashed(conn: ConnId, error: unknown): void;
  /**
   * Local connection `conn` can no longer be served (its input `data` was not
   * accepted, or the process was cut off): drop it; it reconnects.
   */
  lost(conn: ConnId, reason: string, data?: string | Uint8Array): void;
}

export interface MailboxEngine {
  readonly limits: SessionLimits;
  /**
   * A new local connection from `address`: `register` is given its id before
   * any output for it (its `welcome`) is reported.
   */
  connect(address: string, now: number, register: (conn: ConnId) => void): void;
  receive(conn: ConnId, data: string | Uint8Array, now: number): void;
  disconnect(conn: ConnId): void;
  prune(now: number, expiryMs: number): void;
  stats(): MailboxCoreStats;
  /** See MailboxCore.isIdle. */
  isIdle(conn: ConnId): boolean;
  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void;
  /** The shared log's health, if the engine has one (else the store's counts). */
  health?(): StoreHealth;
  close(): Promise<void>;
}

/** One process: inputs applied to the core at once. */
export class LocalEngine implements MailboxEngine {
  readonly #core: MailboxCore;
  readonly #events: EngineEvents;

  constructor(options: MailboxCoreOptions, events: EngineEvents) {
    this.#core = new MailboxCore(options);
    this.#events = events;
  }

  get limits(): SessionLimits {
    return this.#core.limits;
  }

  connect(address: string, now: number, register: (conn: ConnId) => void): void {
    const { conn, effects } = this.#core.connect(address, now);
    register(conn);
    this.#emit(effects);
  }

  receive(conn: ConnId, data: string | Uint8Array, now: number): void {
    let effects: MailboxEffect[];
    try {
      effects = this.#core.receive(conn, data, now);
    } catch (err) {
      this.#events.crashed(conn, err);
      return;
    }
    this.#emit(effects, { conn, data });
  }

  disconnect(conn: ConnId): void {
    this.#emit(this.#core.disconnect(conn));
  }

  prune(now: number, expiryMs: number): void {
    this.#emit(this.#core.prune(now, expiryMs));
  }

  stats(): MailboxCoreStats {
    return this.#core.stats();
  }

  isIdle(conn: ConnId): boolean {
    return this.#core.isIdle(conn);
  }

  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void {
    this.#core.setWelcomeExtras(extras);
  }

  async close(): Promise<void> {
    /* nothing of its own to release */
  }

  #emit(effects: readonly MailboxEffect[], origin?: EngineOutput['origin']): void {
    const out = { effects, changes: this.#core.takeChanges(), usage: this.#core.takeUsage() };
    this.#events.output(origin ? { ...out, origin } : out);
  }
}
