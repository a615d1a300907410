/**
 * One process's copy of a mailbox cluster's state: a {@link MailboxCore}
 * that applies the cluster's ordered log of inputs (see
 * docs-site/guide/scaling.md). Every process applies the same entries in the
 * same order and so holds the same state; each sends only the frames for its
 * own connections, and logs and counts only the entries it appended.
 *
 * Applying an entry is deterministic: its time is the one the appending
 * process read, its randomness (allocated nameplate, mailbox id) is expanded
 * from the 16 random bytes it carries. No I/O here: ./redis-engine.ts moves
 * entries to and from Redis.
 */
import { createHash } from 'node:crypto';
import { MailboxCore, type ConnId, type MailboxCoreOptions, type MailboxEffect } from '@burrow/protocol/server';
import type { EngineEvents } from './engine.js';

/** One input to the cluster's mailbox state. `proc` is the process that appended it. */
export type LogEntry =
  | { readonly type: 'connect'; readonly proc: string; readonly conn: ConnId; readonly address: string; readonly now: number; readonly seed: string }
  | { readonly type: 'frame'; readonly proc: string; readonly conn: ConnId; readonly data: string | Uint8Array; readonly now: number; readonly seed: string }
  | { readonly type: 'disconnect'; readonly proc: string; readonly conn: ConnId }
  | { readonly type: 'prune'; readonly proc: string; readonly now: number; readonly expiryMs: number }
  /** Every connection of `proc` is gone (it stopped, or its heartbeat expired). */
  | { readonly type: 'gone'; readonly proc: string };

/** An entry as Redis stream fields: `[name, value, name, value, …]`. */
export function encodeEntry(e: LogEntry): string[] {
  const out = ['t', e.type, 'p', e.proc];
  if ('conn' in e) out.push('c', String(e.conn));
  if ('now' in e) out.push('n', String(e.now));
  if ('seed' in e) out.push('s', e.seed);
  if (e.type === 'connect') out.push('a', e.address);
  if (e.type === 'frame') {
    if (typeof e.data === 'string') out.push('d', e.data);
    else out.push('b', Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('base64'));
  }
  if (e.type === 'prune') out.push('x', String(e.expiryMs));
  return out;
}

/** Stream fields back to an entry; undefined for a type (or shape) this version does not know. */
export function decodeEntry(fields: readonly string[]): LogEntry | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const proc = f.get('p');
  const conn = Number(f.get('c'));
  const now = Number(f.get('n'));
  const seed = f.get('s');
  if (proc === undefined) return undefined;
  switch (f.get('t')) {
    case 'connect': {
      const address = f.get('a');
      return Number.isInteger(conn) && Number.isFinite(now) && address !== undefined && seed !== undefined ? { type: 'connect', proc, conn, address, now, seed } : undefined;
    }
    case 'frame': {
      const text = f.get('d');
      const b64 = f.get('b');
      const data = text ?? (b64 !== undefined ? new Uint8Array(Buffer.from(b64, 'base64')) : undefined);
      return Number.isInteger(conn) && Number.isFinite(now) && data !== undefined && seed !== undefined ? { type: 'frame', proc, conn, data, now, seed } : undefined;
    }
    case 'disconnect':
      return Number.isInteger(conn) ? { type: 'disconnect', proc, conn } : undefined;
    case 'prune': {
      const expiryMs = Number(f.get('x'));
      return Number.isFinite(now) && Number.isFinite(expiryMs) ? { type: 'prune', proc, now, expiryMs } : undefined;
    }
    case 'gone':
      return { type: 'gone', proc };
    default:
      return undefined;
  }
}

/** `n` bytes of SHA-256(seed ‖ counter) blocks: the same bytes on every process. */
class SeededRandom {
  #seed = '';
  #counter = 0;

  reset(seed: string): void {
    this.#seed = seed;
    this.#counter = 0;
  }

  draw(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = createHash('sha256').update(`${this.#seed}/${this.#counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  }
}

export class Replica {
  readonly #proc: string;
  readonly #core: MailboxCore;
  readonly #events: EngineEvents;
  readonly #random = new SeededRandom();
  /** `proc/conn` → the core's id, and back. */
  readonly #ids = new Map<string, ConnId>();
  readonly #names = new Map<ConnId, { proc: string; conn: ConnId }>();
  /** Connections per process, for `gone`. */
  readonly #byProc = new Map<string, Set<ConnId>>();

  /** `proc`: this process's name in the log. */
  constructor(proc: string, options: Omit<MailboxCoreOptions, 'random' | 'restored'>, events: EngineEvents) {
    this.#proc = proc;
    this.#core = new MailboxCore({ ...options, random: (n) => this.#random.draw(n) });
    this.#events = events;
  }

  get core(): MailboxCore {
    return this.#core;
  }

  /** The core's id of process `proc`'s connection `conn`, once its connect was applied. */
  coreId(proc: string, conn: ConnId): ConnId | undefined {
    return this.#ids.get(`${proc}/${conn}`);
  }

  /** Processes other than this one with connections in the state. */
  otherProcesses(): string[] {
    return [...this.#byProc.keys()].filter((p) => p !== this.#proc);
  }

  apply(e: LogEntry): void {
    const mine = e.proc === this.#proc;
    switch (e.type) {
      case 'connect': {
        const name = `${e.proc}/${e.conn}`;
        if (this.#ids.has(name)) return;
        this.#random.reset(e.seed); // a permission challenge is drawn at connect
        const { conn, effects } = this.#core.connect(e.address, e.now);
        this.#ids.set(name, conn);
        this.#names.set(conn, { proc: e.proc, conn: e.conn });
        let set = this.#byProc.get(e.proc);
        if (!set) this.#byProc.set(e.proc, (set = new Set()));
        set.add(conn);
        return this.#emit(effects, mine);
      }
      case 'frame': {
        const conn = this.#ids.get(`${e.proc}/${e.conn}`);
        if (conn === undefined) return;
        this.#random.reset(e.seed);
        let effects: MailboxEffect[];
        try {
          effects = this.#core.receive(conn, e.data, e.now);
        } catch (err) {
          // Every process throws alike (the core is deterministic); the owner drops the client.
          if (mine) this.#events.crashed(e.conn, err);
          return;
        }
        return this.#emit(effects, mine, { conn: e.conn, data: e.data });
      }
      case 'disconnect':
        return this.#drop(e.proc, e.conn, mine);
      case 'prune':
        return this.#emit(this.#core.prune(e.now, e.expiryMs), mine);
      case 'gone':
        for (const conn of [...(this.#byProc.get(e.proc) ?? [])]) {
          const local = this.#names.get(conn)!.conn;
          this.#drop(e.proc, local, mine);
          if (mine) this.#events.lost(local, 'cut off from the shared store');
        }
        return;
    }
  }

  #drop(proc: string, local: ConnId, mine: boolean): void {
    const name = `${proc}/${local}`;
    const conn = this.#ids.get(name);
    if (conn === undefined) return;
    this.#ids.delete(name);
    this.#names.delete(conn);
    const set = this.#byProc.get(proc);
    set?.delete(conn);
    if (set?.size === 0) this.#byProc.delete(proc);
    this.#emit(this.#core.disconnect(conn), mine);
  }

  /** Pass on the frames for this process's connections (renamed to their local ids), and logs and usage if the entry is ours. */
  #emit(effects: readonly MailboxEffect[], mine: boolean, origin?: { conn: ConnId; data: string | Uint8Array }): void {
    this.#core.takeChanges(); // the log is the record; nothing to store
    const usage = this.#core.takeUsage();
    const out: MailboxEffect[] = [];
    for (const effect of effects) {
      if (effect.type === 'log') {
        if (mine) out.push(effect);
        continue;
      }
      const name = this.#names.get(effect.to);
      if (name?.proc === this.#proc) out.push({ ...effect, to: name.conn });
    }
    if (out.length === 0 && (!mine || usage.length === 0)) return;
    this.#events.output({ effects: out, changes: [], usage: mine ? usage : [], ...(mine && origin ? { origin } : {}) });
  }
}
