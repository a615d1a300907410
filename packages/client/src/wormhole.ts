/**
 * createWormhole: the one place where the protocol machines meet I/O.
 *
 *   const w = await createWormhole({ mailbox: 'ws://127.0.0.1:4000/v1' });
 *   const code = await w.allocateCode();      // or w.setCode('7-guitarist-revenge')
 *   w.sendMessage(bytes);
 *   const reply = await w.nextMessage();
 *   await w.close();
 */
import {
  Session,
  WormholeError,
  deriveKey as hkdfDeriveKey,
  encodeClientMessage,
  parseCode,
  parseServerMessage,
  toHex,
  type IoEffect,
  type SessionKey,
  type SessionInput,
  type Welcome,
  abortError,
  anySignal,
  deferred,
  withSignal,
  type Deferred,
  type Logger,
} from '@burrow/protocol';
import { MessageInbox } from './inbox.js';
import { DEFAULT_APPID, MAX_MESSAGE_SIZE, type CallOptions, type WormholeOptions, type WormholeStatus } from './wormhole-options.js';
import { systemRandom } from './random.js';
import { receiveText, sendText } from './app-messages.js';
import type { FrameConnection, MailboxTransport } from './transports/types.js';
import { webSocketTransport } from './transports/websocket.js';
import { advertiseConnect } from './connection/advertise.js';
import type { ConnectOptions } from './connection/connect.js';
import type { Connection } from './connection/types.js';
import { WelcomeGate } from './permission/welcome-gate.js';

export { DEFAULT_APPID, MAX_MESSAGE_SIZE, type CallOptions, type WormholeOptions, type WormholeStatus } from './wormhole-options.js';

/**
 * Connect to a mailbox server and start a wormhole session. Resolves once the
 * server connection is up and welcomed (with the hashcash stamp sent, if the
 * server asks for one: permission/gate.ts); rejects with `Connection` if it
 * cannot be reached, `Welcome` if it refuses us.
 */
export async function createWormhole(options: WormholeOptions, callOptions: CallOptions = {}): Promise<Wormhole> {
  const signal = callOptions.signal ?? options.signal;
  if (signal?.aborted) throw abortError(signal);
  if (typeof options?.mailbox !== 'string' || !/^(wss?|https?):\/\//.test(options.mailbox)) {
    throw new WormholeError('Usage', 'options.mailbox must be a ws:// or wss:// URL');
  }
  const w = new Wormhole(options);
  try {
    await withSignal(w.connected, anySignal(signal, AbortSignal.timeout(options.connectTimeoutMs ?? 15_000)));
  } catch (err) {
    w.abort(err instanceof WormholeError ? err : new WormholeError('Connection', 'could not connect to the mailbox server', { cause: err }));
    throw err instanceof WormholeError && err.code === 'Timeout'
      ? new WormholeError('Connection', `no answer from the mailbox server at ${options.mailbox}`, { cause: err })
      : err;
  }
  return w;
}

export class Wormhole {
  /** Our side id (10 hex chars), stable across reconnects. */
  readonly side: string;
  readonly appid: string;
  /** The code, once allocated or set. */
  readonly code: Promise<string>;
  /** The server's welcome (motd etc.). */
  readonly welcome: Promise<Welcome>;
  /** A 32-byte value both sides share: compare it out of band to detect a man in the middle. */
  readonly verifier: Promise<Uint8Array>;
  /** The peer's `version` phase (its app_versions and abilities), once its key is proven. */
  readonly peerVersions: Promise<Record<string, unknown>>;
  /** Settles when the wormhole is fully closed: resolves if happy, rejects with the reason otherwise. */
  readonly closed: Promise<void>;
  /** @internal */
  readonly connected: Promise<void>;

  readonly #session: Session;
  readonly #transport: MailboxTransport;
  readonly #url: string;
  readonly #random: (n: number) => Uint8Array;
  readonly #logger: Logger | undefined;
  readonly #code = deferred<string>();
  readonly #welcome = deferred<Welcome>();
  readonly #key = deferred<SessionKey>();
  readonly #verifier = deferred<Uint8Array>();
  readonly #versions = deferred<Record<string, unknown>>();
  readonly #closed = deferred<void>();
  readonly #connected = deferred<void>();
  readonly #inbox = new MessageInbox();
  #conn: FrameConnection | undefined;
  #connGeneration = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending: SessionInput[] = [];
  #draining = false;
  #codeStarted = false;
  /** Set once the session failed or closed: later calls reject with it at once. */
  #failure: WormholeError | undefined;
  #closingResult: 'happy' | WormholeError | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #closeTimeoutMs: number;
  #isClosed = false;
  #onAbort: (() => void) | undefined;
  #signal: AbortSignal | undefined;

  /** Use {@link createWormhole}. */
  constructor(options: WormholeOptions) {
    this.#random = options.random ?? systemRandom;
    this.side = toHex(this.#random(5));
    this.appid = options.appid ?? DEFAULT_APPID;
    this.#url = options.mailbox;
    this.#logger = options.logger;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#transport = options.transport ?? webSocketTransport(options.WebSocket ? { WebSocket: options.WebSocket } : {});
    this.#session = new Session(
      {
        side: this.side,
        appid: this.appid,
        random: this.#random,
        appVersions: options.appVersions ?? {},
        versionExtras: advertiseConnect(this, this.side, options),
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      },
      options.trace ? { trace: options.trace } : {},
    );
    this.code = this.#code.promise;
    this.welcome = this.#welcome.promise;
    this.verifier = this.#verifier.promise;
    this.peerVersions = this.#versions.promise;
    this.closed = this.#closed.promise;
    this.connected = this.#connected.promise;
    if (options.signal) {
      const signal = options.signal;
      this.#signal = signal;
      this.#onAbort = () => this.abort(abortError(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#input({ type: 'start' });
  }

  /** Where the session is, as a snapshot. */
  get status(): WormholeStatus {
    const s = this.#session.snapshot();
    if (s.boss === 'closed') return 'closed';
    if (s.boss === 'closing') return 'closing';
    if (s.boss === 'happy') return 'connected';
    if (s.boss === 'lonely') return 'waiting-for-peer';
    return s.rendezvous === 'connected' ? 'waiting-for-code' : 'connecting';
  }

  /** Ask the server for a nameplate and make a code with `words` random words. */
  async allocateCode(words = 2, options: CallOptions = {}): Promise<string> {
    if (!Number.isInteger(words) || words < 1 || words > 64) throw new WormholeError('Usage', 'words must be an integer from 1 to 64');
    this.#startCode();
    this.#input({ type: 'allocate_code', words });
    return withSignal(this.code, options.signal);
  }

  /** Use a code typed by the user (or chosen in advance). Throws `InvalidCode` if malformed. */
  setCode(code: string): void {
    const parsed = parseCode(code);
    this.#startCode();
    this.#input({ type: 'set_code', code: parsed.code });
  }

  /** Queue an application message (phases 0, 1, 2, …); sent once the peer proves the key. */
  sendMessage(message: Uint8Array): void {
    if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
    if (message.length > MAX_MESSAGE_SIZE) {
      throw new WormholeError('Usage', `a wormhole message is limited to ${MAX_MESSAGE_SIZE} bytes; use connect() or a file transfer for bulk data`);
    }
    if (this.#failure) throw this.#failure;
    this.#input({ type: 'send', plaintext: message.slice() });
  }

  /** The next application message from the peer, in order. */
  nextMessage(options: CallOptions = {}): Promise<Uint8Array> {
    return this.#inbox.next(options.signal);
  }

  /** Derive an application key from the session key (HKDF-SHA256, like `w.derive_key`). */
  async deriveKey(purpose: string, length = 32, options: CallOptions = {}): Promise<Uint8Array> {
    if (typeof purpose !== 'string') throw new TypeError('purpose must be a string');
    const key = await withSignal(this.#key.promise, options.signal);
    return hkdfDeriveKey(key, purpose, length);
  }

  /** Send a text the way `wormhole send --text` does, and wait for the peer's acknowledgement. */
  sendText(text: string, options: CallOptions = {}): Promise<void> {
    return sendText(this, text, options);
  }

  /** Receive a text the way `wormhole receive` does (a file offer is refused). */
  receiveText(options: CallOptions = {}): Promise<string> {
    return receiveText(this, options);
  }

  /**
   * Agree a bulk-data connection with the peer (WebRTC when both can, else
   * Transit through a relay): streams with backpressure. Both sides call it.
   */
  async connect(options: ConnectOptions = {}): Promise<Connection> {
    options.signal?.throwIfAborted();
    const { connect } = await import('./connection/connect.js'); // loaded on first use
    return connect(this, options);
  }

  /**
   * Close the wormhole: release the nameplate, close the mailbox with our
   * mood, disconnect. Resolves when done; rejects with the session's error
   * if it failed (e.g. `WrongPassword`).
   */
  close(): Promise<void> {
    this.#input({ type: 'close' });
    return this.closed;
  }

  /**
   * Give up on this wormhole: pending calls reject with `error` now, and the
   * session closes politely (mood `errory`) in the background.
   */
  abort(error: WormholeError): void {
    this.#failPending(error);
    this.#input({ type: 'abort', error });
  }

  #startCode(): void {
    if (this.#codeStarted) throw new WormholeError('Usage', 'the code was already set or allocated');
    if (this.#failure) throw this.#failure;
    this.#codeStarted = true;
  }

  /** Feed the session one input; effects run after the machines settle, never inside a transition. */
  #input(input: SessionInput): void {
    this.#pending.push(input);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
        let effects: IoEffect[];
        try {
          effects = this.#session.handle(next);
        } catch (err) {
          // A bug in the machines must not leave callers hanging.
          this.#finish(new WormholeError('ServerProtocol', 'internal state machine error', { cause: err, blame: 'local' }));
          return;
        }
        for (const effect of effects) this.#perform(effect);
      }
    } finally {
      this.#draining = false;
    }
  }

  #perform(effect: IoEffect): void {
    switch (effect.type) {
      case 'connect':
        return this.#connect();
      case 'disconnect':
        this.#conn?.close();
        return;
      case 'transmit':
        this.#conn?.send(encodeClientMessage(effect.message, toHex(this.#random(2))));
        return;
      case 'set_timer':
        clearTimeout(this.#timer);
        this.#logger?.info?.('mailbox connection lost; reconnecting', { delayMs: effect.ms });
        this.#timer = setTimeout(() => this.#input({ type: 'timer' }), effect.ms);
        return;
      case 'cancel_timer':
        clearTimeout(this.#timer);
        return;
      case 'welcome':
        this.#welcome.resolve(effect.welcome);
        return;
      case 'code':
        this.#code.resolve(effect.code);
        return;
      case 'key':
        this.#key.resolve(effect.key);
        this.#verifier.resolve(effect.verifier);
        return;
      case 'versions':
        this.#versions.resolve(effect.versions);
        return;
      case 'message':
        this.#inbox.push(effect.plaintext);
        return;
      case 'closing':
        this.#closingResult = effect.result;
        if (effect.result !== 'happy') this.#failPending(effect.result);
        // A close needs the server; if it is gone, do not wait forever.
        this.#closeTimer ??= setTimeout(() => {
          this.#logger?.warn?.('mailbox did not confirm the close in time; dropping the connection');
          this.#finish(this.#closingResult === 'happy' ? undefined : this.#closingResult);
        }, this.#closeTimeoutMs);
        return;
      case 'closed':
        this.#finish(effect.result === 'happy' ? undefined : effect.result);
        return;
    }
  }

  #connect(): void {
    const generation = ++this.#connGeneration;
    const current = () => generation === this.#connGeneration;
    // Bind waits for the welcome (and the permission it may ask for): see permission/welcome-gate.ts.
    const gate = new WelcomeGate(
      {
        send: (frame) => current() && this.#conn?.send(frame),
        ready: () => {
          if (!current()) return;
          this.#connected.resolve();
          this.#input({ type: 'connection_made' });
        },
        deliver: (data) => current() && this.#frame(data),
        fail: (error) => current() && this.#input({ type: 'error', error }),
      },
      { random: this.#random, ...(this.#signal ? { signal: this.#signal } : {}), ...(this.#logger ? { logger: this.#logger } : {}) },
    );
    this.#conn = this.#transport(this.#url, {
      open: () => {
        /* the gate hands the connection to the session once the welcome is in */
      },
      frame: (data) => {
        if (current()) gate.frame(data);
      },
      closed: (error) => {
        gate.close();
        if (!current()) return;
        this.#conn = undefined;
        if (error) this.#logger?.debug?.('mailbox connection closed', { error: String(error) });
        this.#input({ type: 'connection_lost' });
      },
    });
  }

  #frame(data: string | Uint8Array): void {
    let message;
    try {
      if (typeof data !== 'string') throw new WormholeError('ServerProtocol', 'mailbox server sent a binary frame (expected JSON text)');
      message = parseServerMessage(data);
    } catch (err) {
      this.#input({ type: 'error', error: err as WormholeError });
      return;
    }
    if (message.type === 'unknown') this.#logger?.debug?.('ignoring unknown server message', { type: message.original });
    this.#input({ type: 'server_message', message });
  }

  /** Reject everything that is waiting (and everything that will), but keep the session running. */
  #failPending(reason: WormholeError): void {
    this.#failure ??= reason;
    for (const d of [this.#code, this.#welcome, this.#key, this.#verifier, this.#versions, this.#connected] as Deferred<unknown>[]) d.reject(reason);
    this.#inbox.fail(reason);
  }

  #finish(error: WormholeError | undefined): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#closeTimer);
    this.#conn?.close();
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#failPending(error ?? new WormholeError('Closed', 'the wormhole was closed'));
    if (error) this.#closed.reject(error);
    else this.#closed.resolve();
  }
}
