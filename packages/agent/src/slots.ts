/**
 * Connection slots, counted by socket lifetime: a slot is taken when an
 * upgrade is handed to the WebSocket server and given back when the socket
 * closes, whatever happened in between (a failed upgrade, a refused
 * handshake, a session that ended). Two kinds, each bounded in total and per
 * origin:
 *
 *   pending   not authenticated yet; closed after `preAuthMs`; when full,
 *             the oldest pending socket (of the same origin when that
 *             origin is full; a silent one before one that spoke) is
 *             evicted for the newcomer, so silent sockets cannot keep a
 *             paired client out: it authenticates in milliseconds
 *   session   authenticated; over the bound the handshake is refused
 *
 * Origins are keys as received (`''` for a socket without an Origin).
 */
import type { Refusal } from './policy.js';

export interface SlotLimits {
  /** Authenticated sessions at once, in total. */
  readonly maxSessions: number;
  /** Authenticated sessions at once from one origin. */
  readonly maxSessionsPerOrigin: number;
  /** Sockets not yet authenticated, in total. */
  readonly maxPending: number;
  /** Sockets not yet authenticated from one origin. */
  readonly maxPendingPerOrigin: number;
  /** A socket not authenticated after this many ms is closed. */
  readonly preAuthMs: number;
}

/** One socket's slot. */
export interface Slot {
  /** The socket spoke (its hello arrived): evicted only after every silent one. */
  heard(): void;
  /** The handshake succeeded: move to the sessions, or a refusal when they are full. */
  promote(): Refusal | undefined;
  /** The socket closed: give the slot back (idempotent). */
  release(): void;
}

interface Entry {
  readonly origin: string;
  readonly drop: () => void;
  state: 'pending' | 'session' | 'gone';
  heard: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Slots {
  readonly #limits: SlotLimits;
  readonly #onDrop: (refusal: Refusal) => void;
  /** Pending sockets, oldest first (a Set keeps insertion order). */
  readonly #pending = new Set<Entry>();
  readonly #sessions = new Map<string, number>();
  #sessionCount = 0;

  /** `onDrop` reports a socket closed for a limit (evicted, or too slow to authenticate). */
  constructor(limits: SlotLimits, onDrop: (refusal: Refusal) => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  /** Sockets waiting to authenticate, and authenticated sessions. */
  get counts(): { pending: number; sessions: number } {
    return { pending: this.#pending.size, sessions: this.#sessionCount };
  }

  /** Take a pending slot for a socket from `origin`; `drop` closes that socket at once. Evicts the oldest pending socket when full. */
  admit(origin: string, drop: () => void): Slot {
    const limits = this.#limits;
    const sameOrigin = [...this.#pending].filter((e) => e.origin === origin);
    const pool = sameOrigin.length >= limits.maxPendingPerOrigin ? sameOrigin : this.#pending.size >= limits.maxPending ? [...this.#pending] : [];
    const victim = pool.find((e) => !e.heard) ?? pool[0];
    if (victim) this.#evict(victim, { reason: 'limit', message: `dropped a connection that had not authenticated yet to make room (at most ${limits.maxPending} pending, ${limits.maxPendingPerOrigin} per origin)` });
    const entry: Entry = { origin, drop, state: 'pending', heard: false, timer: undefined };
    entry.timer = setTimeout(() => this.#evict(entry, { reason: 'limit', message: `a connection did not authenticate within ${limits.preAuthMs} ms` }), limits.preAuthMs);
    this.#pending.add(entry);
    return {
      heard: () => void (entry.heard = true),
      promote: () => this.#promote(entry),
      release: () => this.#release(entry),
    };
  }

  #promote(entry: Entry): Refusal | undefined {
    if (entry.state !== 'pending') return { reason: 'limit', message: 'the connection was already dropped' };
    const limits = this.#limits;
    const fromOrigin = this.#sessions.get(entry.origin) ?? 0;
    if (this.#sessionCount >= limits.maxSessions) return { reason: 'limit', message: `too many connections (${limits.maxSessions})` };
    if (fromOrigin >= limits.maxSessionsPerOrigin) return { reason: 'limit', message: `too many connections from this origin (${limits.maxSessionsPerOrigin})` };
    this.#release(entry);
    entry.state = 'session';
    this.#sessions.set(entry.origin, fromOrigin + 1);
    this.#sessionCount++;
    return undefined;
  }

  #evict(entry: Entry, refusal: Refusal): void {
    if (entry.state !== 'pending') return;
    this.#release(entry);
    this.#onDrop(refusal);
    entry.drop();
  }

  #release(entry: Entry): void {
    clearTimeout(entry.timer);
    if (entry.state === 'pending') this.#pending.delete(entry);
    else if (entry.state === 'session') {
      const left = (this.#sessions.get(entry.origin) ?? 1) - 1;
      if (left > 0) this.#sessions.set(entry.origin, left);
      else this.#sessions.delete(entry.origin);
      this.#sessionCount--;
    }
    entry.state = 'gone';
  }
}
