/**
 * The running mailbox server: the sans-I/O {@link MailboxCore} plus a clock,
 * randomness, a store, a logger, timers and connection bookkeeping. Any
 * transport that moves text frames plugs in through {@link MailboxService.attach}
 * (the WebSocket binding is in ./ws.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@burrow/protocol';
import {
  encodeServerFrame,
  DEFAULT_SESSION_LIMITS,
  HARD_FRAME_FACTOR,
  INTERNET_RULE_LIMITS,
  parseClientFrame,
  RateBudget,
  type ConnId,
  type MailboxCoreStats,
  type MailboxEffect,
  type MailboxLimits,
  type PermissionPolicy,
  type UsageRecord,
  type WelcomeOptions,
} from '@burrow/protocol/server';
import { Admission, type AdmissionLimits, type AdmitResult } from '../admission.js';
import { LocalEngine, type EngineEvents, type EngineOutput, type MailboxEngine } from './engine.js';
import type { RedisEngineOptions } from './redis-engine.js';
import { DurableOutbox, type OutboxEntry, type StoreHealth } from './outbox.js';
import { MemoryMailboxStore, type MailboxStore } from './store.js';

/** What a client whose change could not be saved is told (an `error` frame; clients give up). */
export const ERR_STORE_FAILED = 'server could not save this, try again later';

export interface ConnectionLimits extends AdmissionLimits {
  /** Bytes queued towards one client before it is dropped as too slow. */
  readonly maxBufferedBytes: number;
  /** Frames per second, sustained, from one address (IPv6: /64); a connection over it is dropped (1008). */
  readonly framesPerSecondPerAddress: number;
  /** The same from one prefix (IPv4 /24, IPv6 /48). */
  readonly framesPerSecondPerPrefix: number;
  /** Seconds of that rate that may arrive at once. */
  readonly frameBurstSeconds: number;
  /** A WebTransport session must open its stream within this (ms). */
  readonly firstStreamTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 200,
  maxConnectionsPerPrefix: 1_000,
  maxBufferedBytes: 4 << 20,
  framesPerSecondPerAddress: 100,
  framesPerSecondPerPrefix: 400,
  frameBurstSeconds: 5,
  firstStreamTimeoutMs: 10_000,
};

export type MailboxServiceLimits = MailboxLimits & ConnectionLimits;

/** Every mailbox limit the gateway applies by default (internet-facing rule limits, session and connection limits). */
export const DEFAULT_MAILBOX_SERVICE_LIMITS: MailboxServiceLimits = {
  ...INTERNET_RULE_LIMITS,
  ...DEFAULT_SESSION_LIMITS,
  ...DEFAULT_CONNECTION_LIMITS,
};

export interface MailboxServiceOptions {
  /** Where state survives restarts (default: memory, lost with the process). */
  readonly store?: MailboxStore;
  /**
   * Share the mailboxes with every other process on this Redis (see
   * docs-site/guide/scaling.md); excludes `store`.
   */
  readonly redis?: RedisEngineOptions;
  readonly logger?: Logger;
  readonly welcome?: WelcomeOptions;
  /** Answer `list` (default true). */
  readonly allowList?: boolean;
  /** Require a permission before bind (e.g. `hashcashPermission(20)` from `@burrow/protocol/hashcash`); off by default. */
  readonly permission?: PermissionPolicy;
  readonly limits?: Partial<MailboxServiceLimits>;
  /** Abandoned nameplates and mailboxes expire after this (default 11 min, as Python). */
  readonly expiryMs?: number;
  /** How often to look for expired ones (default 30 s: abandoned allocations go within minutes; Python: 5 min). */
  readonly pruneIntervalMs?: number;
  /** Randomness for mailbox ids and nameplates (default node:crypto). */
  readonly random?: (n: number) => Uint8Array;
  /** Clock, ms since the epoch (default Date.now). */
  readonly now?: () => number;
  /** Try a failed store commit again after this long without traffic (default 1 s). */
  readonly storeRetryMs?: number;
  /** Keys added to each connection's welcome at connect time (see MailboxCoreOptions.welcomeFor). */
  readonly welcomeFor?: (now: number) => Readonly<Record<string, unknown>>;
  /** Each deleted nameplate and mailbox's usage record (no codes, sides or bodies). */
  readonly onUsage?: (record: UsageRecord) => void;
}

/** One client connection, as a transport presents it. */
export interface MailboxPeer {
  /** The client's address (for per-address limits and logs). */
  readonly address: string;
  send(frame: string): void;
  /** Bytes accepted by `send` but not yet handed to the network. */
  bufferedAmount(): number;
  /** Drop the connection (policy violation, slow consumer, shutdown). */
  close(code: number, reason: string): void;
}

/** What a transport calls for an attached peer. */
export interface AttachedPeer {
  receive(data: string | Uint8Array): void;
  /** The connection ended; call exactly once. */
  closed(): void;
}

export interface MailboxServiceStats extends MailboxCoreStats {
  /** Client addresses with at least one connection. */
  addresses: number;
}

export type { AdmitResult } from '../admission.js';

export class MailboxService {
  readonly #engine: MailboxEngine;
  readonly #store: MailboxStore;
  readonly #outbox: DurableOutbox;
  readonly #logger: Logger | undefined;
  readonly #limits: ConnectionLimits;
  readonly #now: () => number;
  readonly #expiryMs: number;
  readonly #peers = new Map<ConnId, MailboxPeer>();
  readonly #admission: Admission;
  readonly #frames: RateBudget;
  readonly #onUsage: ((record: UsageRecord) => void) | undefined;
  readonly #pruneTimer: NodeJS.Timeout;
  #closed = false;

  /** Load the store (or catch up with the shared log) and start. */
  static async start(options: MailboxServiceOptions = {}): Promise<MailboxService> {
    if (options.store && options.redis) throw new TypeError('options.store and options.redis exclude each other');
    const store = options.store ?? new MemoryMailboxStore();
    const now = options.now ?? Date.now;
    const core = {
      now: now(),
      ...(options.welcome ? { welcome: options.welcome } : {}),
      ...(options.allowList !== undefined ? { allowList: options.allowList } : {}),
      ...(options.welcomeFor ? { welcomeFor: options.welcomeFor } : {}),
      ...(options.permission ? { permission: options.permission } : {}),
      limits: { ...INTERNET_RULE_LIMITS, ...options.limits },
    };
    // The engine reports to the service, which needs the engine: bound once both exist.
    let service: MailboxService | undefined;
    const events: EngineEvents = {
      output: (out) => {
        if (service) service.#output(out);
      },
      crashed: (conn, error) => {
        if (service) service.#crashed(conn, error);
      },
      lost: (conn, reason, data) => {
        if (service) service.#lost(conn, reason, data);
      },
    };
    let engine: MailboxEngine;
    if (options.redis) {
      const { RedisEngine } = await import('./redis-engine.js');
      engine = await RedisEngine.open({ ...(options.logger ? { logger: options.logger } : {}), ...options.redis }, core, events);
    } else {
      const restored = await store.load();
      engine = new LocalEngine({ ...core, restored, random: options.random ?? ((n) => new Uint8Array(randomBytes(n))) }, events);
    }
    service = new MailboxService(engine, store, options);
    return service;
  }

  private constructor(engine: MailboxEngine, store: MailboxStore, options: MailboxServiceOptions) {
    this.#engine = engine;
    this.#store = store;
    this.#logger = options.logger;
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    this.#admission = new Admission(this.#limits);
    this.#frames = new RateBudget({
      perAddress: this.#limits.framesPerSecondPerAddress,
      perPrefix: this.#limits.framesPerSecondPerPrefix,
      burstSeconds: this.#limits.frameBurstSeconds,
    });
    this.#onUsage = options.onUsage;
    this.#now = options.now ?? Date.now;
    this.#expiryMs = options.expiryMs ?? 11 * 60_000;
    this.#outbox = new DurableOutbox({
      store,
      deliver: (effects) => this.#deliver(effects),
      refuse: (entry, error) => this.#refuse(entry, error),
      ...(options.logger ? { logger: options.logger } : {}),
      now: this.#now,
      ...(options.storeRetryMs !== undefined ? { retryMs: options.storeRetryMs } : {}),
    });
    const stats = engine.stats();
    if (stats.nameplates > 0 || stats.mailboxes > 0) {
      this.#log('info', 'mailbox.restored', { nameplates: stats.nameplates, mailboxes: stats.mailboxes });
    }
    this.#pruneTimer = setInterval(() => this.prune(), options.pruneIntervalMs ?? 30_000);
    this.#pruneTimer.unref();
  }

  /** Frames over this size are dropped by the transport (close 1009) before they are buffered whole. */
  get hardFrameLimit(): number {
    return this.#engine.limits.maxFrameBytes * HARD_FRAME_FACTOR;
  }

  /** The connection limits in force (timeouts for transports). */
  get connectionLimits(): ConnectionLimits {
    return this.#limits;
  }

  /** Whether one more connection from `address` is allowed (ask before accepting it). */
  admit(address: string): AdmitResult {
    return this.#admission.admit(address);
  }

  /**
   * Count a connection not attached yet (a session waiting for its stream)
   * against `address`'s caps; call the result before {@link attach} or when
   * giving up.
   */
  hold(address: string): () => void {
    return this.#admission.charge(address);
  }

  /** Refuse new connections from now on (draining before shutdown); open ones carry on. */
  stopAccepting(): void {
    this.#admission.close();
  }

  /** While draining: close (1001) every connection that is in no wormhole; returns how many. */
  closeIdle(): number {
    let closed = 0;
    for (const [conn, peer] of [...this.#peers]) {
      if (!this.#engine.isIdle(conn)) continue;
      peer.close(1001, 'server shutting down');
      closed++;
    }
    return closed;
  }

  /** See {@link MailboxCore.setWelcomeExtras}. */
  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void {
    this.#engine.setWelcomeExtras(extras);
  }

  /** Start serving a connection; sends `welcome`. */
  attach(peer: MailboxPeer): AttachedPeer {
    let conn = 0;
    this.#engine.connect(peer.address, this.#now(), (id) => {
      conn = id;
      this.#peers.set(conn, peer);
    });
    const release = this.#admission.charge(peer.address);
    this.#log('debug', 'mailbox.connect', { conn, address: peer.address });
    let done = false;
    return {
      receive: (data) => {
        if (done) return;
        const over = this.#frames.take(peer.address, this.#now());
        if (over !== undefined) {
          this.#log('warn', 'mailbox.limit', { conn, address: peer.address, limit: `frames.${over}` });
          done = true;
          peer.close(1008, 'too many frames');
          this.#detach(conn, release);
          return;
        }
        this.#engine.receive(conn, data, this.#now());
      },
      closed: () => {
        if (done) return;
        done = true;
        this.#detach(conn, release);
      },
    };
  }

  #detach(conn: ConnId, release: () => void): void {
    this.#peers.delete(conn);
    release();
    this.#engine.disconnect(conn);
    this.#log('debug', 'mailbox.disconnect', { conn });
  }

  /** Expire abandoned nameplates and mailboxes now (also runs on a timer). */
  prune(): void {
    this.#engine.prune(this.#now(), this.#expiryMs);
    this.#frames.sweep(this.#now());
  }

  stats(): MailboxServiceStats {
    return { ...this.#engine.stats(), connections: this.#peers.size, addresses: this.#admission.addresses };
  }

  /** Whether the store is keeping up (failed saves, unsaved changes). */
  storeHealth(): StoreHealth {
    return this.#engine.health?.() ?? this.#outbox.health();
  }

  /** Resolves when every change so far is durable (and its frames sent); rejects while the store fails. */
  flush(): Promise<void> {
    return this.#outbox.settled();
  }

  /** Drop every connection (clients reconnect elsewhere or later) and close the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    await this.#outbox.close();
    for (const peer of [...this.#peers.values()]) peer.close(1001, 'server shutting down');
    await this.#engine.close();
    await this.#store.close();
  }

  /** Hand what the core did to the outbox: sent once its changes are saved. */
  #output(out: EngineOutput): void {
    if (this.#onUsage) for (const record of out.usage) this.#onUsage(record);
    this.#outbox.push({ effects: out.effects, changes: out.changes, ...(out.origin ? { origin: out.origin } : {}) });
  }

  /** Handling a frame of `conn` threw: a bug must cost one connection, not the process. */
  #crashed(conn: ConnId, error: unknown): void {
    this.#log('warn', 'mailbox.internal-error', { conn, error: String(error) });
    this.#peers.get(conn)?.close(1011, 'internal error');
  }

  /** `conn` cannot be served on (its frame was not saved, or this process was cut off): tell it, let it go. */
  #lost(conn: ConnId, reason: string, data?: string | Uint8Array): void {
    const peer = this.#peers.get(conn);
    if (!peer) return;
    this.#log('warn', 'mailbox.store-refused', { conn, reason });
    if (data !== undefined) this.#deliver([{ type: 'send', to: conn, frame: this.#storeFailed(data) }]);
    peer.close(1001, reason); // not the client's fault: a graceful close, it may reconnect
  }

  #storeFailed(data: string | Uint8Array): string {
    const parsed = parseClientFrame(data, this.#engine.limits.maxFrameBytes);
    return encodeServerFrame({ type: 'error', error: ERR_STORE_FAILED, orig: parsed.ok ? parsed.frame : null }, this.#now());
  }

  /**
   * The store failed to save what the origin's frame changed: send its
   * `ack` (acks carry no state) and an `error`, drop the rest (nothing
   * unsaved is echoed); the changes are saved later, when the store recovers.
   */
  #refuse(entry: OutboxEntry, error: unknown): void {
    const origin = entry.origin!;
    this.#log('warn', 'mailbox.store-refused', { conn: origin.conn, error: String(error) });
    const kept = entry.effects.filter((e) => e.type === 'log' || (e.to === origin.conn && e.frame.startsWith('{"type":"ack"')));
    this.#deliver(kept);
    this.#deliver([{ type: 'send', to: origin.conn, frame: this.#storeFailed(origin.data) }]);
  }

  #deliver(effects: readonly MailboxEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'log') {
        this.#log(effect.level, effect.event, effect.fields);
        continue;
      }
      const peer = this.#peers.get(effect.to);
      if (!peer) continue;
      peer.send(effect.frame);
      if (peer.bufferedAmount() > this.#limits.maxBufferedBytes) {
        this.#log('warn', 'mailbox.slow-consumer', { conn: effect.to, address: peer.address });
        this.#peers.delete(effect.to);
        peer.close(1008, 'too slow');
      }
    }
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    this.#logger?.[level]?.(event, fields);
  }
}
