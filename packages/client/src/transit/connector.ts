/**
 * The Transit connector (`transit.py` `Common`): advertise our hints, learn
 * the peer's, then race every way to meet — our listener, dials to the
 * peer's direct hints, and (a little later) every relay — through the
 * injected dialers (the hints and the attempts are built in candidates.ts).
 * The first connection whose handshake completes wins: the sender sends `go\n` on it and `nevermind\n` on any other that
 * completes; the receiver keeps the one that says `go`. Losers are closed.
 *
 *   const c = await TransitConnector.create({ role: 'sender', key, ...options });
 *   sendAppMessage(w, { transit: c.message });       // before the offer
 *   c.addPeerHints(theirs);                           // from their `transit`
 *   const conn = await c.connect({ signal });         // TransitConnection
 */
import { bestEffort } from '@burrow/protocol';
import {
  TransitHandshake,
  WormholeError,
  mergeRelays,
  parseRelayLocation,
  recordKeys,
  toHex,
  type HandshakeEffect,
  type RelayHint,
  type TransitHints,
  type TransitKey,
  type TransitRole,
} from '@burrow/protocol';
import { abortError } from '@burrow/protocol';
import { systemRandom as defaultRandom } from '../random.js';
import type { Logger, SecretBox } from '@burrow/protocol';
import { outboundAttempts, ourTransitMessage } from './candidates.js';
import { TransitConnection, type TransitKind } from './connection.js';
import type { ByteChannel, TransitDialers, TransitListen, TransitListener } from './types.js';
import { webSocketDialer } from './websocket.js';

export interface TransitOptions {
  /** How to open connections. Default: WebSocket only (`globalThis.WebSocket`), as in a browser. */
  dialers?: TransitDialers;
  /** Listen for direct connections (Node). Without it we only dial out. */
  listen?: TransitListen;
  /** Relays we propose: `tcp:HOST:PORT`, `ws(s)://…` or RelayHint objects (one relay each). */
  relays?: readonly (string | RelayHint)[];
  /** Wait this long before trying relays when the peer gave direct hints (default 2000, like Python). */
  relayDelayMs?: number;
  /** Give up connecting after this long (default 120 000, like Python). */
  timeoutMs?: number;
  /** Largest record we accept (default 16 MiB + overhead). */
  maxRecordLength?: number;
  /** Seals and opens records (default: noble, pure JS; `nodeTransit()` passes libsodium). */
  secretBox?: SecretBox;
  logger?: Logger;
  /** Randomness for our 8-byte relay side (default crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
}

export interface TransitConnectorInit extends TransitOptions {
  role: TransitRole;
  key: TransitKey;
}

interface Contender {
  readonly description: string;
  readonly kind: TransitKind;
  hs?: TransitHandshake;
  channel?: ByteChannel;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  writer?: WritableStreamDefaultWriter<Uint8Array>;
  /** Stop an outbound dial (its delay or its connect). */
  abort?: () => void;
  done: boolean;
}


export class TransitConnector {
  readonly role: TransitRole;
  /** The body of our `transit` message. */
  readonly message: Record<string, unknown>;
  readonly #key: TransitKey;
  readonly #side: string;
  readonly #dialers: TransitDialers;
  readonly #listener: TransitListener | undefined;
  readonly #ourRelays: RelayHint[];
  readonly #relayDelayMs: number;
  readonly #timeoutMs: number;
  readonly #maxRecordLength: number | undefined;
  readonly #secretBox: SecretBox | undefined;
  readonly #logger: Logger | undefined;
  #peer: TransitHints = { abilities: [], direct: [], relays: [] };
  #contenders = new Set<Contender>();
  /** Sender: handshakes that completed before connect() and wait for a decision. */
  #waiting: Contender[] = [];
  /** Receiver: a connection that said `go` before connect(). */
  #ready: TransitConnection | undefined;
  #connecting: { resolve(c: TransitConnection): void; reject(e: unknown): void } | undefined;
  #winner: TransitConnection | undefined;
  /** Sender: the candidate we said `go` to (set before the write completes, so only one ever hears it). */
  #chosen: Contender | undefined;
  #finished = false;
  #failures: WormholeError[] = [];
  #outstanding = 0;

  private constructor(init: TransitConnectorInit, listener: TransitListener | undefined) {
    this.role = init.role;
    this.#key = init.key;
    this.#side = toHex((init.random ?? defaultRandom)(8));
    this.#dialers = init.dialers ?? { websocket: webSocketDialer() };
    this.#listener = listener;
    this.#ourRelays = mergeRelays((init.relays ?? []).map((r) => (typeof r === 'string' ? parseRelayLocation(r) : r)));
    this.#relayDelayMs = init.relayDelayMs ?? 2000;
    this.#timeoutMs = init.timeoutMs ?? 120_000;
    this.#maxRecordLength = init.maxRecordLength;
    this.#secretBox = init.secretBox;
    this.#logger = init.logger;
    this.message = ourTransitMessage(listener, this.#ourRelays);
  }

  /** Start listening (if a listener is configured) and build our hints. */
  static async create(init: TransitConnectorInit, options: { signal?: AbortSignal } = {}): Promise<TransitConnector> {
    options.signal?.throwIfAborted();
    let connector: TransitConnector | undefined;
    const pending: { ch: ByteChannel; d: string }[] = [];
    const listener = init.listen
      ? await init.listen((ch, d) => {
          if (connector) connector.#inbound(ch, d);
          else pending.push({ ch, d });
        })
      : undefined;
    connector = new TransitConnector(init, listener);
    for (const { ch, d } of pending) connector.#inbound(ch, d);
    return connector;
  }

  /** Add what the peer sent in its `transit` message (may be called more than once). */
  addPeerHints(hints: TransitHints): void {
    this.#peer = {
      abilities: [...new Set([...this.#peer.abilities, ...hints.abilities])],
      direct: [...this.#peer.direct, ...hints.direct],
      relays: mergeRelays([...this.#peer.relays, ...hints.relays]),
    };
  }

  /**
   * Race all candidates; resolves with the winning connection. Rejects with
   * `Timeout`, `Aborted`, `RemoteProtocol` (a peer or relay answered with a
   * wrong handshake and nothing else worked) or `Connection`.
   */
  connect(options: { signal?: AbortSignal } = {}): Promise<TransitConnection> {
    const signal = options.signal;
    signal?.throwIfAborted();
    if (this.#connecting || this.#finished) return Promise.reject(new WormholeError('Usage', 'connect() was already called'));
    return new Promise<TransitConnection>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(new WormholeError('Timeout', `no transit connection within ${Math.round(this.#timeoutMs / 1000)} s${this.#summary()}`)),
        this.#timeoutMs,
      );
      const onAbort = () => this.#fail(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#connecting = {
        resolve: (c) => {
          cleanup();
          resolve(c);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      if (this.#ready) return this.#win(this.#ready);
      const queued = this.#waiting.shift();
      if (queued) this.#decide(queued, true);
      this.#startOutbound();
      this.#checkExhausted();
    });
  }

  /** Stop listening and drop every candidate that has not won. */
  close(): void {
    this.#listener?.close();
    for (const c of this.#contenders) this.#drop(c);
    this.#contenders.clear();
    if (this.#ready && this.#ready !== this.#winner) this.#ready.close();
    if (!this.#finished) {
      this.#finished = true;
      this.#connecting?.reject(new WormholeError('Closed', 'transit connector closed'));
    }
  }

  // ------------------------------------------------------------ candidates

  #startOutbound(): void {
    for (const a of outboundAttempts(this.#peer, this.#ourRelays, this.#dialers, this.#relayDelayMs)) this.#dial(a.description, a.kind, a.delayMs, a.open);
  }

  #dial(description: string, kind: TransitKind, delayMs: number, open: (signal: AbortSignal) => Promise<ByteChannel>): void {
    const c: Contender = { description, kind, done: false };
    const ctrl = new AbortController();
    this.#contenders.add(c);
    this.#outstanding++;
    c.abort = () => ctrl.abort();
    const run = async () => {
      if (delayMs) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delayMs);
          ctrl.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
      }
      if (c.done || this.#finished) return;
      let channel: ByteChannel;
      try {
        channel = await open(ctrl.signal);
      } catch (cause) {
        if (!c.done) this.#failed(c, new WormholeError('Connection', `${description}: ${errorText(cause)}`, { cause }));
        return;
      }
      if (c.done || this.#finished) {
        channel.close();
        return;
      }
      await this.#handshake(c, channel, kind === 'relay' ? this.#side : undefined);
    };
    run().catch((err: unknown) => this.#failed(c, toWormholeError(err, description)));
  }

  #inbound(channel: ByteChannel, description: string): void {
    if (this.#finished || this.#winner) {
      channel.close();
      return;
    }
    const c: Contender = { description: `<-${description}`, kind: 'direct', done: false };
    this.#contenders.add(c);
    this.#outstanding++;
    this.#handshake(c, channel, undefined).catch((err: unknown) => this.#failed(c, toWormholeError(err, c.description)));
  }

  async #handshake(c: Contender, channel: ByteChannel, relaySide: string | undefined): Promise<void> {
    c.channel = channel;
    const hs = new TransitHandshake({ role: this.role, key: this.#key, ...(relaySide ? { relaySide } : {}) });
    c.hs = hs;
    const reader = channel.readable.getReader();
    const writer = channel.writable.getWriter();
    c.reader = reader;
    c.writer = writer;
    if (await this.#perform(c, hs.start())) return;
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (cause) {
        if (!c.done) this.#failed(c, new WormholeError('Connection', `${c.description}: ${errorText(cause)}`, { cause }));
        return;
      }
      if (c.done) return;
      if (await this.#perform(c, r.done ? hs.closed() : hs.receive(r.value))) return;
      if (hs.state === 'wait-decision') return; // the race decides; stop reading before records.
    }
  }

  /** Run handshake effects; true when this contender is finished (won, lost or failed). */
  async #perform(c: Contender, effects: HandshakeEffect[]): Promise<boolean> {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          try {
            await c.writer!.write(e.bytes);
          } catch (cause) {
            if (!c.done) this.#failed(c, new WormholeError('Connection', `${c.description}: ${errorText(cause)}`, { cause }));
            return true;
          }
          break;
        case 'decide':
          this.#onDecide(c);
          return true;
        case 'established':
          this.#established(c, e.leftover);
          return true;
        case 'failed':
          this.#failed(c, e.error);
          return true;
      }
    }
    return false;
  }

  #onDecide(c: Contender): void {
    if (this.#chosen || this.#winner || this.#finished) return this.#decide(c, false);
    if (!this.#connecting) {
      this.#waiting.push(c);
      return;
    }
    this.#decide(c, true);
  }

  #decide(c: Contender, win: boolean): void {
    if (win) this.#chosen = c;
    const effects = c.hs!.decide(win);
    void this.#perform(c, effects).then(() => {
      if (!win) this.#drop(c);
    });
  }

  #established(c: Contender, leftover: Uint8Array): void {
    c.done = true;
    this.#contenders.delete(c);
    this.#outstanding--;
    const conn = new TransitConnection({
      channel: c.channel!,
      reader: c.reader!,
      writer: c.writer!,
      leftover,
      keys: recordKeys(this.#key, this.role),
      kind: c.kind,
      description: c.description,
      ...(this.#maxRecordLength === undefined ? {} : { maxRecordLength: this.#maxRecordLength }),
      ...(this.#secretBox === undefined ? {} : { secretBox: this.#secretBox }),
    });
    if (this.#winner || this.#finished || this.#ready) {
      conn.close();
      return;
    }
    if (!this.#connecting) {
      this.#ready = conn; // receiver: the sender said go before we asked
      return;
    }
    this.#win(conn);
  }

  #win(conn: TransitConnection): void {
    this.#winner = conn;
    this.#finished = true;
    this.#logger?.info?.('transit connected', { via: conn.description });
    for (const c of this.#contenders) {
      // Sender: anything still mid-handshake just gets closed (Python cancels them too).
      this.#drop(c);
    }
    this.#contenders.clear();
    for (const c of this.#waiting) this.#decide(c, false);
    this.#waiting = [];
    this.#listener?.close();
    this.#connecting?.resolve(conn);
  }

  #failed(c: Contender, error: WormholeError): void {
    if (c.done) return;
    if (c === this.#chosen) this.#chosen = undefined;
    this.#logger?.debug?.('transit candidate failed', { via: c.description, error: error.message });
    this.#drop(c);
    this.#failures.push(error);
    this.#checkExhausted();
  }

  #drop(c: Contender): void {
    if (!c.done) {
      c.done = true;
      this.#outstanding--;
    }
    this.#contenders.delete(c);
    c.abort?.();
    c.reader?.cancel().catch(bestEffort);
    c.channel?.close();
  }

  /** With nothing left to try and no listener, fail now instead of waiting for the timeout. */
  #checkExhausted(): void {
    if (!this.#connecting || this.#finished || this.#outstanding > 0 || this.#waiting.length > 0) return;
    if (this.#listener) return; // the peer may still dial us
    const bad = this.#failures.find((f) => f.code === 'RemoteProtocol');
    this.#fail(
      bad
        ? new WormholeError('RemoteProtocol', `transit failed: ${bad.message}`, { cause: bad, blame: bad.blame })
        : new WormholeError('Connection', `could not establish a transit connection${this.#summary()}`, { cause: this.#failures[0] }),
    );
  }

  #fail(error: WormholeError): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const c of this.#contenders) this.#drop(c);
    this.#contenders.clear();
    for (const c of this.#waiting) this.#drop(c);
    this.#waiting = [];
    this.#listener?.close();
    this.#connecting?.reject(error);
  }

  #summary(): string {
    if (this.#failures.length === 0) return '';
    return ` (${this.#failures.slice(0, 4).map((f) => f.message).join('; ')})`;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toWormholeError(err: unknown, where: string): WormholeError {
  return err instanceof WormholeError ? err : new WormholeError('Connection', `${where}: ${errorText(err)}`, { cause: err });
}
