/**
 * Several gateway processes, one set of mailboxes: every input goes into one
 * Redis stream and every process applies the stream, in order, to its own
 * {@link Replica} (design: docs-site/guide/scaling.md).
 *
 * - `connect` / `receive` / `disconnect` / `prune` append an entry
 *   (`XADD`); nothing is applied until the entry is read back (`XREAD`), so
 *   a frame's effects are sent only once it is in Redis and in its place in
 *   the cluster's order.
 * - At open, the stream is replayed from its start; `open` resolves once
 *   caught up.
 * - A heartbeat key per process (`PX` TTL); a process whose key is gone while
 *   its connections are still in the state is declared `gone` by whoever
 *   notices (appending the same `gone` twice is harmless).
 * - An append Redis refuses loses that client (it is told and dropped, and
 *   reconnects); `health()` is failing until an append succeeds again.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '@burrow/protocol';
import { bestEffort } from '@burrow/protocol';
import type { ConnId, MailboxCoreOptions, MailboxCoreStats, SessionLimits } from '@burrow/protocol/server';
import type { EngineEvents, MailboxEngine } from './engine.js';
import type { StoreHealth } from './outbox.js';
import { LatencyHistogram } from './latency.js';
import { decodeEntry, encodeEntry, Replica, type LogEntry } from './replica.js';

export interface RedisEngineOptions {
  /** `redis://HOST:PORT[/DB]`. */
  readonly url: string;
  /** Key prefix, so several clusters can share one Redis (default `burrow:mailbox`). */
  readonly prefix?: string;
  /** Heartbeat period; a process silent for 3 periods is gone (default 2 s). */
  readonly heartbeatMs?: number;
  readonly logger?: Logger;
}

/** Entries read per `XREAD`. */
const BATCH = 1000;

/** Stream ids `ms-seq` in order. */
function idAtLeast(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am > bm : as >= bs;
}

/** `XREAD`/`XRANGE` reply → `[id, fields][]`, ignoring anything malformed. */
function entriesOf(items: unknown): [string, string[]][] {
  if (!Array.isArray(items)) return [];
  return items.filter((it): it is [string, string[]] => Array.isArray(it) && typeof it[0] === 'string' && Array.isArray(it[1]));
}

export class RedisEngine implements MailboxEngine {
  readonly #proc = randomBytes(6).toString('hex');
  readonly #replica: Replica;
  readonly #events: EngineEvents;
  readonly #writer: Redis;
  readonly #reader: Redis;
  readonly #log: string;
  readonly #prefix: string;
  readonly #heartbeatMs: number;
  readonly #logger: Logger | undefined;
  #lastId = '0-0';
  #nextConn = 1;
  /** Local connections whose input Redis refused: later input is dropped. */
  readonly #dead = new Set<ConnId>();
  #timer: NodeJS.Timeout | undefined;
  #following: Promise<void> | undefined;
  #closed = false;
  #appends = 0;
  readonly #latency = new LatencyHistogram();
  #failures = 0;
  #pending = 0;
  #error: unknown;
  #failingSince: number | undefined;

  /** Connect, replay the stream, start following it. Rejects if Redis cannot be reached. */
  static async open(options: RedisEngineOptions, core: Omit<MailboxCoreOptions, 'random' | 'restored'>, events: EngineEvents): Promise<RedisEngine> {
    const engine = new RedisEngine(options, core, events);
    try {
      await engine.#start();
    } catch (err) {
      engine.#closed = true;
      engine.#writer.disconnect();
      engine.#reader.disconnect();
      throw err;
    }
    return engine;
  }

  private constructor(options: RedisEngineOptions, core: Omit<MailboxCoreOptions, 'random' | 'restored'>, events: EngineEvents) {
    this.#replica = new Replica(this.#proc, core, events);
    this.#events = events;
    this.#prefix = options.prefix ?? 'burrow:mailbox';
    this.#log = `${this.#prefix}:log`;
    this.#heartbeatMs = options.heartbeatMs ?? 2000;
    this.#logger = options.logger;
    const redisOptions = { maxRetriesPerRequest: 2, lazyConnect: true, connectionName: `burrow-${this.#proc}` };
    this.#writer = new Redis(options.url, redisOptions);
    this.#reader = new Redis(options.url, { ...redisOptions, maxRetriesPerRequest: 1 });
    for (const r of [this.#writer, this.#reader]) r.on('error', (err: unknown) => this.#logger?.debug?.('mailbox-redis.error', { error: String(err) }));
  }

  get limits(): SessionLimits {
    return this.#replica.core.limits;
  }

  /** This process's name in the log. */
  get proc(): string {
    return this.#proc;
  }

  connect(address: string, now: number, register: (conn: ConnId) => void): void {
    const conn = this.#nextConn++;
    register(conn);
    this.#append({ type: 'connect', proc: this.#proc, conn, address, now, seed: randomBytes(16).toString('hex') }, conn);
  }

  receive(conn: ConnId, data: string | Uint8Array, now: number): void {
    if (this.#dead.has(conn)) return;
    this.#append({ type: 'frame', proc: this.#proc, conn, data, now, seed: randomBytes(16).toString('hex') }, conn, data);
  }

  disconnect(conn: ConnId): void {
    this.#dead.delete(conn);
    this.#append({ type: 'disconnect', proc: this.#proc, conn });
  }

  prune(now: number, expiryMs: number): void {
    this.#append({ type: 'prune', proc: this.#proc, now, expiryMs });
  }

  stats(): MailboxCoreStats {
    return this.#replica.core.stats();
  }

  isIdle(conn: ConnId): boolean {
    const id = this.#replica.coreId(this.#proc, conn);
    return id === undefined || this.#replica.core.isIdle(id);
  }

  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void {
    this.#replica.core.setWelcomeExtras(extras);
  }

  health(): StoreHealth {
    const base = { ok: this.#failingSince === undefined, commits: this.#appends, failures: this.#failures, pending: this.#pending, latency: this.#latency.snapshot() };
    return this.#failingSince === undefined ? base : { ...base, error: String(this.#error), failingSince: this.#failingSince };
  }

  /**
   * Say this process is gone (its clients were dropped already) and
   * disconnect. With Redis unreachable, give up after a second: the others
   * notice the missing heartbeat.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    const farewell = (async () => {
      await this.#writer.xadd(this.#log, '*', ...encodeEntry({ type: 'gone', proc: this.#proc }));
      await this.#writer.del(this.#heartbeatKey(this.#proc));
    })();
    await Promise.race([farewell, new Promise((resolve) => setTimeout(resolve, 1000).unref())]).catch(bestEffort);
    farewell.catch(bestEffort);
    this.#closed = true;
    this.#reader.disconnect();
    this.#writer.disconnect();
    await this.#following;
  }

  async #start(): Promise<void> {
    await Promise.all([this.#writer.connect(), this.#reader.connect()]);
    await this.#beat();
    const t0 = Date.now();
    const last = entriesOf(await this.#writer.call('XREVRANGE', this.#log, '+', '-', 'COUNT', 1))[0]?.[0];
    let entries = 0;
    if (last !== undefined) {
      while (!idAtLeast(this.#lastId, last)) entries += await this.#readOnce(0);
    }
    this.#logger?.info?.('mailbox-redis.caught-up', { proc: this.#proc, entries, ms: Date.now() - t0 });
    this.#following = this.#follow();
    this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Read and apply what follows the last applied entry (wait up to `blockMs` for some); returns how many. */
  async #readOnce(blockMs: number): Promise<number> {
    const reply = await this.#reader.call('XREAD', 'COUNT', BATCH, 'BLOCK', blockMs, 'STREAMS', this.#log, this.#lastId);
    const streams = Array.isArray(reply) ? (reply as unknown[]) : [];
    let n = 0;
    for (const stream of streams) {
      if (!Array.isArray(stream)) continue;
      for (const [id, fields] of entriesOf(stream[1])) {
        this.#lastId = id;
        n++;
        const entry = decodeEntry(fields);
        if (entry) this.#replica.apply(entry);
      }
    }
    return n;
  }

  async #follow(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#readOnce(1000);
      } catch (err) {
        if (this.#closed) return;
        this.#failing(err);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Refresh our heartbeat; declare gone every process whose heartbeat expired. */
  async #tick(): Promise<void> {
    try {
      await this.#beat();
      for (const proc of this.#replica.otherProcesses()) {
        if ((await this.#writer.exists(this.#heartbeatKey(proc))) === 0) {
          this.#logger?.info?.('mailbox-redis.process-gone', { proc });
          await this.#writer.xadd(this.#log, '*', ...encodeEntry({ type: 'gone', proc }));
        }
      }
    } catch (err) {
      this.#failing(err);
    }
  }

  async #beat(): Promise<void> {
    await this.#writer.set(this.#heartbeatKey(this.#proc), String(Date.now()), 'PX', this.#heartbeatMs * 3);
  }

  #heartbeatKey(proc: string): string {
    return `${this.#prefix}:proc:${proc}`;
  }

  /** Append `entry`; if Redis refuses it, connection `conn` (if any) can no longer be served. */
  #append(entry: LogEntry, conn?: ConnId, data?: string | Uint8Array): void {
    if (this.#closed) return;
    this.#pending++;
    const started = performance.now();
    this.#writer.xadd(this.#log, '*', ...encodeEntry(entry)).then(
      () => {
        this.#latency.observe(performance.now() - started);
        this.#pending--;
        this.#appends++;
        if (this.#failingSince !== undefined) {
          this.#logger?.info?.('mailbox-store.recovered', { failures: this.#failures, failedForMs: Date.now() - this.#failingSince });
          this.#failingSince = undefined;
          this.#error = undefined;
        }
      },
      (err: unknown) => {
        this.#pending--;
        this.#failures++;
        this.#failing(err);
        if (conn !== undefined && !this.#dead.has(conn)) {
          this.#dead.add(conn);
          this.#events.lost(conn, 'store unavailable', data);
        }
      },
    );
  }

  #failing(err: unknown): void {
    this.#error = err;
    if (this.#failingSince === undefined) {
      this.#failingSince = Date.now();
      this.#logger?.warn?.('mailbox-store.failing', { error: String(err) });
    }
  }
}
