/**
 * The running mailbox server: the sans-I/O {@link MailboxCore} plus a clock,
 * randomness, a store, a logger, timers and connection bookkeeping. Any
 * transport that moves text frames plugs in through {@link MailboxService.attach}
 * (the WebSocket binding is in ./ws.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@burrow/protocol';
import { HARD_FRAME_FACTOR, MailboxCore, type ConnId, type MailboxCoreStats, type MailboxEffect, type MailboxLimits, type WelcomeOptions } from '@burrow/protocol/server';
import { MemoryMailboxStore, type MailboxStore } from './store.js';

export interface ConnectionLimits {
  /** Client connections at once. */
  readonly maxConnections: number;
  /** Client connections at once from one address. */
  readonly maxConnectionsPerAddress: number;
  /** Bytes queued towards one client before it is dropped as too slow. */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  maxBufferedBytes: 4 << 20,
};

export type MailboxServiceLimits = MailboxLimits & ConnectionLimits;

export interface MailboxServiceOptions {
  /** Where state survives restarts (default: memory, lost with the process). */
  readonly store?: MailboxStore;
  readonly logger?: Logger;
  readonly welcome?: WelcomeOptions;
  /** Answer `list` (default true). */
  readonly allowList?: boolean;
  readonly limits?: Partial<MailboxServiceLimits>;
  /** Abandoned nameplates and mailboxes expire after this (default 11 min, as Python). */
  readonly expiryMs?: number;
  /** How often to look for expired ones (default 5 min, as Python). */
  readonly pruneIntervalMs?: number;
  /** Randomness for mailbox ids and nameplates (default node:crypto). */
  readonly random?: (n: number) => Uint8Array;
  /** Clock, ms since the epoch (default Date.now). */
  readonly now?: () => number;
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

export type AdmitResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'server-full' | 'address-full' | 'closed' };

export class MailboxService {
  readonly #core: MailboxCore;
  readonly #store: MailboxStore;
  readonly #logger: Logger | undefined;
  readonly #limits: ConnectionLimits;
  readonly #now: () => number;
  readonly #expiryMs: number;
  readonly #peers = new Map<ConnId, MailboxPeer>();
  readonly #perAddress = new Map<string, number>();
  readonly #pruneTimer: NodeJS.Timeout;
  #closed = false;

  /** Load the store and start. */
  static async start(options: MailboxServiceOptions = {}): Promise<MailboxService> {
    const store = options.store ?? new MemoryMailboxStore();
    const restored = await store.load();
    const now = options.now ?? Date.now;
    const core = new MailboxCore({
      random: options.random ?? ((n) => new Uint8Array(randomBytes(n))),
      now: now(),
      restored,
      ...(options.welcome ? { welcome: options.welcome } : {}),
      ...(options.allowList !== undefined ? { allowList: options.allowList } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    return new MailboxService(core, store, options);
  }

  private constructor(core: MailboxCore, store: MailboxStore, options: MailboxServiceOptions) {
    this.#core = core;
    this.#store = store;
    this.#logger = options.logger;
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#expiryMs = options.expiryMs ?? 11 * 60_000;
    const stats = core.stats();
    if (stats.nameplates > 0 || stats.mailboxes > 0) {
      this.#log('info', 'mailbox.restored', { nameplates: stats.nameplates, mailboxes: stats.mailboxes });
    }
    this.#pruneTimer = setInterval(() => this.prune(), options.pruneIntervalMs ?? 5 * 60_000);
    this.#pruneTimer.unref();
  }

  /** Frames over this size are dropped by the transport (close 1009) before they are buffered whole. */
  get hardFrameLimit(): number {
    return this.#core.limits.maxFrameBytes * HARD_FRAME_FACTOR;
  }

  /** Whether one more connection from `address` is allowed (ask before accepting it). */
  admit(address: string): AdmitResult {
    if (this.#closed) return { ok: false, reason: 'closed' };
    if (this.#peers.size >= this.#limits.maxConnections) return { ok: false, reason: 'server-full' };
    if ((this.#perAddress.get(address) ?? 0) >= this.#limits.maxConnectionsPerAddress) return { ok: false, reason: 'address-full' };
    return { ok: true };
  }

  /** See {@link MailboxCore.setWelcomeExtras}. */
  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void {
    this.#core.setWelcomeExtras(extras);
  }

  /** Start serving a connection; sends `welcome`. */
  attach(peer: MailboxPeer): AttachedPeer {
    const { conn, effects } = this.#core.connect(peer.address, this.#now());
    this.#peers.set(conn, peer);
    this.#perAddress.set(peer.address, (this.#perAddress.get(peer.address) ?? 0) + 1);
    this.#log('debug', 'mailbox.connect', { conn, address: peer.address });
    this.#run(effects);
    let done = false;
    return {
      receive: (data) => {
        if (done) return;
        let effects: MailboxEffect[];
        try {
          effects = this.#core.receive(conn, data, this.#now());
        } catch (err) {
          // A bug must cost one connection, not the process.
          this.#log('warn', 'mailbox.internal-error', { conn, error: String(err) });
          peer.close(1011, 'internal error');
          return;
        }
        this.#run(effects);
      },
      closed: () => {
        if (done) return;
        done = true;
        this.#peers.delete(conn);
        const n = (this.#perAddress.get(peer.address) ?? 1) - 1;
        if (n > 0) this.#perAddress.set(peer.address, n);
        else this.#perAddress.delete(peer.address);
        this.#run(this.#core.disconnect(conn));
        this.#log('debug', 'mailbox.disconnect', { conn });
      },
    };
  }

  /** Expire abandoned nameplates and mailboxes now (also runs on a timer). */
  prune(): void {
    this.#run(this.#core.prune(this.#now(), this.#expiryMs));
  }

  stats(): MailboxServiceStats {
    return { ...this.#core.stats(), connections: this.#peers.size, addresses: this.#perAddress.size };
  }

  /** Resolves when every change so far is durable. */
  flush(): Promise<void> {
    return this.#store.flush();
  }

  /** Drop every connection (clients reconnect elsewhere or later) and close the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    for (const peer of [...this.#peers.values()]) peer.close(1001, 'server shutting down');
    await this.#store.close();
  }

  #run(effects: readonly MailboxEffect[]): void {
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
    const changes = this.#core.takeChanges();
    if (changes.length > 0) this.#store.write(changes);
  }

  #log(level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    this.#logger?.[level]?.(event, fields);
  }
}
