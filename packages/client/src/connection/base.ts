/**
 * What every connection shares: the registry of streams, the queue behind
 * `incoming`, byte counters and rates, the ping/pong round trip behind
 * `getStats().rttMs`, and the one-time `closed` fact.
 * Failures surface once: `closed` rejects (no unhandled rejection), every
 * open stream errors, and an `incoming` loop throws.
 */
import { observed } from '@burrow/protocol';
import { WormholeError, deferred, withSignal, type Deferred } from '@burrow/protocol';
import type { CallOptions } from '../wormhole.js';
import { StreamCore, type StreamHooks, type StreamWire } from './stream.js';
import type { Connection, ConnectionKind, ConnectionStats, DuplexStream } from './types.js';

/** Bound on streams the peer may have open at once (each holds up to a window of our memory). */
export const MAX_INCOMING_STREAMS = 256;
/** A ping unanswered this long gives `rttMs: undefined`. */
export const PING_TIMEOUT_MS = 1000;
/** How long a close waits for what was written to leave (and the peer to hang up). */
export const CLOSE_FLUSH_MS = 2000;

/** Wait for `promise` to settle, but no longer than `ms`; never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([promise.catch(observed), new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export abstract class BaseConnection implements Connection {
  abstract readonly kind: ConnectionKind;
  readonly closed: Promise<void>;
  readonly incoming: AsyncIterable<DuplexStream>;
  protected readonly streams = new Map<number, StreamCore>();
  readonly #closed: Deferred<void> = deferred<void>();
  readonly #incoming: DuplexStream[] = [];
  readonly #incomingWaiters: Deferred<IteratorResult<DuplexStream>>[] = [];
  readonly #window: number;
  readonly #openedAt = performance.now();
  #bytesSent = 0;
  #bytesReceived = 0;
  #lastStats = { at: this.#openedAt, sent: 0, received: 0 };
  #failure: WormholeError | undefined;
  #ended = false;
  #pingNonce = 0;
  readonly #pings = new Map<number, { at: number; done: Deferred<number | undefined> }>();

  constructor(window: number) {
    this.#window = window;
    this.closed = this.#closed.promise;
    this.incoming = { [Symbol.asyncIterator]: () => this.#iterator() };
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  abstract openStream(options?: CallOptions): Promise<DuplexStream>;
  abstract close(reason?: string): Promise<void>;
  /** Path details for getStats (the RTT is measured here, by {@link rtt}). */
  protected abstract describe(options: CallOptions): Promise<{ path: string; localCandidateType?: string; remoteCandidateType?: string }>;
  /** Send a ping carrying `nonce`; false when no ping can be sent now. The peer answers with a pong: call {@link pong}. */
  protected abstract sendPing(nonce: number): boolean;
  /** Tear down the transport (called once, after streams were failed). */
  protected abstract release(): void;

  async getStats(options: CallOptions = {}): Promise<ConnectionStats> {
    options.signal?.throwIfAborted();
    const [details, rttMs] = await withSignal(Promise.all([this.describe(options), this.rtt()]), options.signal);
    const now = performance.now();
    const dt = Math.max(1e-3, (now - this.#lastStats.at) / 1000);
    const stats: ConnectionStats = {
      kind: this.kind,
      ...details,
      rttMs,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      sendRate: (this.#bytesSent - this.#lastStats.sent) / dt,
      receiveRate: (this.#bytesReceived - this.#lastStats.received) / dt,
      openStreams: [...this.streams.values()].filter((s) => s.active).length,
      durationMs: now - this.#openedAt,
    };
    this.#lastStats = { at: now, sent: this.#bytesSent, received: this.#bytesReceived };
    return stats;
  }

  /** Rejects with the reason when the connection is already closed or the call aborted (`openStream`'s first step). */
  protected async assertOpen(options: CallOptions): Promise<void> {
    options.signal?.throwIfAborted();
    if (this.#ended) throw await this.closed.then(() => new WormholeError('Closed', 'the connection is closed'), (e: unknown) => e);
  }

  /** The application-level round trip in ms: undefined when closed, when no ping can be sent, or without an answer in time. */
  protected rtt(): Promise<number | undefined> {
    if (this.#ended) return Promise.resolve(undefined);
    const nonce = (this.#pingNonce = (this.#pingNonce + 1) >>> 0);
    const done = deferred<number | undefined>();
    this.#pings.set(nonce, { at: performance.now(), done });
    if (!this.sendPing(nonce)) {
      this.#pings.delete(nonce);
      return Promise.resolve(undefined);
    }
    const timer = setTimeout(() => done.resolve(undefined), PING_TIMEOUT_MS);
    return done.promise.finally(() => {
      clearTimeout(timer);
      this.#pings.delete(nonce);
    });
  }

  /** The peer answered our ping `nonce` (unknown nonces are ignored). */
  protected pong(nonce: number): void {
    const p = this.#pings.get(nonce);
    p?.done.resolve(performance.now() - p.at);
  }

  /** Make the stream object for `id` over `wire` and register it. */
  protected createStream(id: number, wire: StreamWire): StreamCore {
    const hooks: StreamHooks = {
      window: this.#window,
      sent: (n) => (this.#bytesSent += n),
      received: (n) => (this.#bytesReceived += n),
      finished: (s) => {
        if (this.streams.get(s.id) === s) this.streams.delete(s.id);
      },
      violation: (error) => this.fail(error),
    };
    const stream = new StreamCore(id, wire, hooks);
    this.streams.set(id, stream);
    return stream;
  }

  protected incomingCount(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.active) n++;
    return n;
  }

  /** Hand a peer-opened stream to `incoming`. */
  protected accept(stream: DuplexStream): void {
    if (this.#ended) return;
    const waiter = this.#incomingWaiters.shift();
    if (waiter) waiter.resolve({ value: stream, done: false });
    else this.#incoming.push(stream);
  }

  /** Fail the connection: error every stream, reject `closed`, end `incoming` with the error. */
  fail(error: WormholeError): void {
    if (this.#ended) return;
    this.#failure = error;
    this.#end(error);
    this.#closed.reject(error);
  }

  /** Clean end (our close or the peer's). */
  protected finish(): void {
    if (this.#ended) return;
    this.#end(new WormholeError('Closed', 'the connection was closed'));
    this.#closed.resolve();
  }

  #end(error: WormholeError): void {
    this.#ended = true;
    this.#incoming.length = 0;
    for (const s of [...this.streams.values()]) s.fail(error);
    this.streams.clear();
    for (const w of this.#incomingWaiters.splice(0)) {
      if (this.#failure) w.reject(this.#failure);
      else w.resolve({ value: undefined, done: true });
    }
    for (const p of this.#pings.values()) p.done.resolve(undefined);
    this.#pings.clear();
    this.release();
  }

  #iterator(): AsyncIterator<DuplexStream> {
    return {
      next: () => {
        const ready = this.#incoming.shift();
        if (ready) return Promise.resolve({ value: ready, done: false });
        if (this.#ended) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve({ value: undefined, done: true });
        const d = deferred<IteratorResult<DuplexStream>>();
        this.#incomingWaiters.push(d);
        return d.promise;
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
