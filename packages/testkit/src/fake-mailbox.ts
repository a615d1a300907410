/**
 * An in-memory mailbox server and the `MailboxTransport` that reaches it, for
 * client tests that need no sockets and no Python.
 *
 *   const server = new FakeMailbox();
 *   const a = await createWormhole({ mailbox: server.url, transport: server.transport });
 *
 * It follows the Debian mailbox server (wormhole_mailbox_server 0.4,
 * `server_websocket.py` / `server.py`) closely enough to catch client
 * mistakes: `welcome` on connect, an `ack` for every message but `ping`,
 * `bind` first, one allocate/claim/release/open/close per connection,
 * `crowded` for a third side, `reclaimed` for claiming a released nameplate,
 * adds echoed to every listener (the sender too), replay on `open`, and the
 * mailbox deleted once every side closed it. Error answers look like the
 * real ones: `{type: "error", error, orig}`.
 *
 * It is also scriptable: inspect what clients sent, rewrite or swallow
 * client messages (`intercept`), inject raw frames (`inject`), add peer
 * messages to a mailbox (`addMessage`), drop or refuse connections.
 *
 * Delivery is asynchronous in both directions, one frame per macrotask and
 * in order, like a socket. Nothing here touches the network or a clock other
 * than `setTimeout`/`setImmediate`.
 *
 * The transport types are declared structurally here (the testkit does not
 * depend on @burrow/client); they match `MailboxTransport` in
 * packages/client/src/transport.ts.
 */

/** Callbacks a transport invokes (mirrors `FrameHandlers`). */
export interface FakeFrameHandlers {
  open(): void;
  frame(data: string | Uint8Array): void;
  closed(error?: unknown): void;
}

/** What a transport returns (mirrors `FrameConnection`). */
export interface FakeFrameConnection {
  send(frame: string): void;
  close(): void;
}

/** Mirrors `MailboxTransport`: open one connection, never throw. */
export type FakeMailboxTransport = (url: string, handlers: FakeFrameHandlers) => FakeFrameConnection;

/** A client message as the server parsed it. */
export interface ClientFrame {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * Sees every client message before the server does. Return `undefined` to let
 * the server handle it, `null` to swallow it (no ack, no answer), or another
 * message to handle instead.
 */
export type Interceptor = (message: ClientFrame, connection: FakeConnection) => ClientFrame | null | undefined;

export interface FakeMailboxOptions {
  /** Body of the `welcome` message sent on every connection. Default `{ motd: … }`. */
  readonly welcome?: Record<string, unknown>;
  /** URL to hand to `createWormhole`; never dialled. */
  readonly url?: string;
}

/** One stored mailbox message. */
export interface StoredMessage {
  readonly side: string;
  readonly phase: string;
  readonly body: string;
  readonly id?: string;
}

export interface FakeNameplateRecord {
  readonly id: string;
  readonly mailbox: string;
  /** Sides holding a claim. */
  readonly claimed: Set<string>;
  /** Sides that claimed and released (they may not claim again). */
  readonly released: Set<string>;
}

export interface FakeMailboxRecord {
  readonly id: string;
  readonly messages: StoredMessage[];
  /** Sides that opened the mailbox and have not closed it. */
  readonly open: Set<string>;
  /** Every side that ever opened it (for the crowded check). */
  readonly sides: Set<string>;
  readonly listeners: Set<FakeConnection>;
}

/** A `close` the server saw, for assertions on moods. */
export interface CloseRecord {
  readonly mailbox: string;
  readonly side: string;
  readonly mood: unknown;
}

const later: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => {
        (globalThis as unknown as { setImmediate(f: () => void): unknown }).setImmediate(fn);
      }
    : (fn) => {
        setTimeout(fn, 0);
      };

type RefuseMode = 'fail' | 'hang';

export class FakeMailbox {
  readonly url: string;
  /** Pass as `createWormhole({ transport })`. */
  readonly transport: FakeMailboxTransport;
  /** Every connection ever made, in order. */
  readonly connections: FakeConnection[] = [];
  /** Every client message (after interception), in arrival order. */
  readonly log: { readonly connection: FakeConnection; readonly message: ClientFrame }[] = [];
  readonly nameplates = new Map<string, FakeNameplateRecord>();
  readonly mailboxes = new Map<string, FakeMailboxRecord>();
  readonly closes: CloseRecord[] = [];
  /** Nameplates handed out by `allocate`, in order. */
  readonly allocated: string[] = [];
  welcome: Record<string, unknown>;

  readonly #interceptors: Interceptor[] = [];
  readonly #refusals: RefuseMode[] = [];
  #nextMailbox = 1;

  constructor(options: FakeMailboxOptions = {}) {
    this.url = options.url ?? 'ws://127.0.0.1:9/fake-mailbox/v1';
    this.welcome = options.welcome ?? { motd: 'fake mailbox for tests' };
    this.transport = (url, handlers) => this.#accept(url, handlers);
  }

  /** Connections that are open now. */
  get openConnections(): FakeConnection[] {
    return this.connections.filter((c) => c.isOpen);
  }

  /** The connection most recently opened by `side` (after its `bind`). */
  connectionOf(side: string): FakeConnection | undefined {
    return this.connections.filter((c) => c.side === side).at(-1);
  }

  /** Client messages of one type, optionally from one side. */
  messages(type: string, side?: string): ClientFrame[] {
    return this.log.filter((e) => e.message.type === type && (side === undefined || e.connection.side === side)).map((e) => e.message);
  }

  /** The next `count` connection attempts fail (`'fail'`: closed with an error) or never open (`'hang'`). */
  refuse(count = 1, mode: RefuseMode = 'fail'): void {
    for (let i = 0; i < count; i++) this.#refusals.push(mode);
  }

  /** Add an interceptor; returns a function that removes it. */
  intercept(fn: Interceptor): () => void {
    this.#interceptors.push(fn);
    return () => {
      const i = this.#interceptors.indexOf(fn);
      if (i >= 0) this.#interceptors.splice(i, 1);
    };
  }

  /** The mailbox id a nameplate points to (once claimed or allocated). */
  mailboxOf(nameplate: string): string | undefined {
    return this.nameplates.get(nameplate)?.mailbox;
  }

  /**
   * Store a message in a mailbox as if `side` had added it, and send it to
   * every listener. Creates the mailbox if needed (a peer that never connects).
   */
  addMessage(mailbox: string, message: StoredMessage): void {
    const record = this.#mailbox(mailbox);
    record.messages.push(message);
    for (const listener of record.listeners) listener.send(messageFrame(message));
  }

  /** Server-side close of every open connection (the network went away). */
  dropAll(error?: unknown): void {
    for (const c of this.openConnections) c.drop(error);
  }

  /**
   * Poll until `check()` is truthy (each macrotask), failing after `timeoutMs`.
   * For tests: no sleeps, just a bounded wait for a condition.
   */
  async waitFor<T>(check: () => T | undefined | null | false, what = 'condition', timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`fake mailbox: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => later(resolve));
    }
  }

  #accept(_url: string, handlers: FakeFrameHandlers): FakeFrameConnection {
    const conn = new FakeConnection(
      this.connections.length + 1,
      handlers,
      (c, frame) => this.#receive(c, frame),
      (c) => {
        for (const record of this.mailboxes.values()) record.listeners.delete(c);
      },
    );
    this.connections.push(conn);
    const refusal = this.#refusals.shift();
    if (refusal === 'fail') {
      later(() => conn.drop(new Error('fake mailbox: connection refused')));
    } else if (refusal === undefined) {
      later(() => {
        if (conn.opened()) conn.send({ type: 'welcome', welcome: this.welcome, server_tx: 0 });
      });
    }
    return conn.clientSide;
  }

  #receive(conn: FakeConnection, frame: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame);
    } catch {
      conn.send({ type: 'error', error: 'frame is not JSON', orig: frame.slice(0, 200) });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
      conn.send({ type: 'error', error: 'missing "type"', orig: parsed });
      return;
    }
    let message: ClientFrame | null = parsed as ClientFrame;
    for (const fn of this.#interceptors.slice()) {
      const out: ClientFrame | null | undefined = fn(message, conn);
      if (out === null) return;
      if (out !== undefined) message = out;
    }
    conn.received.push(message);
    this.log.push({ connection: conn, message });
    if (message.type !== 'ping') conn.send({ type: 'ack', id: message['id'] ?? null, server_tx: 0 });
    try {
      this.#handle(conn, message);
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      conn.send({ type: 'error', error: err.message, orig: message });
    }
  }

  #handle(conn: FakeConnection, m: ClientFrame): void {
    const s = conn.state;
    if (m.type === 'ping') {
      if (!('ping' in m)) throw new ServerError("ping requires 'ping'");
      conn.send({ type: 'pong', pong: m['ping'] });
      return;
    }
    if (m.type === 'bind') {
      if (conn.side !== undefined) throw new ServerError('already bound');
      if (typeof m['appid'] !== 'string') throw new ServerError("bind requires 'appid'");
      if (typeof m['side'] !== 'string') throw new ServerError("bind requires 'side'");
      conn.appid = m['appid'];
      conn.side = m['side'];
      return;
    }
    const side = conn.side;
    if (side === undefined) throw new ServerError('must bind first');
    switch (m.type) {
      case 'list':
        conn.send({ type: 'nameplates', nameplates: [...this.nameplates.keys()].sort().map((id) => ({ id })) });
        return;
      case 'allocate': {
        if (s.didAllocate) throw new ServerError("you already allocated one, don't be greedy");
        s.didAllocate = true;
        let n = 1;
        while (this.nameplates.has(String(n))) n++;
        const id = String(n);
        this.#claim(id, side);
        this.allocated.push(id);
        conn.send({ type: 'allocated', nameplate: id });
        return;
      }
      case 'claim': {
        if (typeof m['nameplate'] !== 'string') throw new ServerError("claim requires 'nameplate'");
        if (s.didClaim) throw new ServerError('only one claim per connection');
        s.didClaim = true;
        s.nameplate = m['nameplate'];
        conn.send({ type: 'claimed', mailbox: this.#claim(m['nameplate'], side) });
        return;
      }
      case 'release': {
        if (s.didRelease) throw new ServerError('only one release per connection');
        let id: string;
        if (typeof m['nameplate'] === 'string') {
          if (s.nameplate !== undefined && m['nameplate'] !== s.nameplate) throw new ServerError('release and claim must use same nameplate');
          id = m['nameplate'];
        } else {
          if (s.nameplate === undefined) throw new ServerError('release without nameplate must follow claim');
          id = s.nameplate;
        }
        s.didRelease = true;
        const np = this.nameplates.get(id);
        if (np?.claimed.delete(side)) np.released.add(side);
        if (np && np.claimed.size === 0) this.nameplates.delete(id);
        conn.send({ type: 'released' });
        return;
      }
      case 'open': {
        if (s.mailbox !== undefined) throw new ServerError('only one open per connection');
        if (typeof m['mailbox'] !== 'string') throw new ServerError("open requires 'mailbox'");
        const record = this.#open(m['mailbox'], side);
        s.mailbox = record.id;
        s.mailboxId = record.id;
        record.listeners.add(conn);
        for (const old of record.messages) conn.send(messageFrame(old));
        return;
      }
      case 'add': {
        const id = s.mailbox;
        const record = id === undefined ? undefined : this.mailboxes.get(id);
        if (!record) throw new ServerError('must open mailbox before adding');
        if (typeof m['phase'] !== 'string') throw new ServerError("missing 'phase'");
        if (typeof m['body'] !== 'string') throw new ServerError("missing 'body'");
        const msg: StoredMessage = typeof m['id'] === 'string' ? { side, phase: m['phase'], body: m['body'], id: m['id'] } : { side, phase: m['phase'], body: m['body'] };
        this.addMessage(record.id, msg);
        return;
      }
      case 'close': {
        if (s.didClose) throw new ServerError('only one close per connection');
        let id: string;
        if (typeof m['mailbox'] === 'string') {
          if (s.mailboxId !== undefined && m['mailbox'] !== s.mailboxId) throw new ServerError('open and close must use same mailbox');
          id = m['mailbox'];
        } else {
          if (s.mailboxId === undefined) throw new ServerError('close without mailbox must follow open');
          id = s.mailboxId;
        }
        const record = s.mailbox === undefined ? this.#open(id, side) : this.mailboxes.get(id) ?? this.#open(id, side);
        record.listeners.delete(conn);
        s.didClose = true;
        s.mailbox = undefined;
        if (record.open.delete(side)) this.closes.push({ mailbox: id, side, mood: m['mood'] });
        if (record.open.size === 0) {
          for (const l of record.listeners) l.state.mailbox = undefined;
          this.mailboxes.delete(id);
        }
        conn.send({ type: 'closed' });
        return;
      }
      default:
        throw new ServerError('unknown type');
    }
  }

  #claim(id: string, side: string): string {
    let np = this.nameplates.get(id);
    if (!np) {
      np = { id, mailbox: `mb${this.#nextMailbox++}`, claimed: new Set(), released: new Set() };
      this.nameplates.set(id, np);
    }
    if (np.released.has(side)) throw new ServerError('reclaimed');
    this.#open(np.mailbox, side);
    np.claimed.add(side);
    return np.mailbox;
  }

  #open(id: string, side: string): FakeMailboxRecord {
    const record = this.#mailbox(id);
    if (!record.sides.has(side) && record.sides.size >= 2) throw new ServerError('crowded');
    record.sides.add(side);
    record.open.add(side);
    return record;
  }

  #mailbox(id: string): FakeMailboxRecord {
    let record = this.mailboxes.get(id);
    if (!record) {
      record = { id, messages: [], open: new Set(), sides: new Set(), listeners: new Set() };
      this.mailboxes.set(id, record);
    }
    return record;
  }
}

class ServerError extends Error {}

function messageFrame(m: StoredMessage): Record<string, unknown> {
  return { type: 'message', side: m.side, phase: m.phase, body: m.body, id: m.id ?? null, server_rx: 0, server_tx: 0 };
}

interface ConnectionState {
  didAllocate: boolean;
  didClaim: boolean;
  didRelease: boolean;
  didClose: boolean;
  nameplate: string | undefined;
  /** The mailbox this connection listens to (cleared by close). */
  mailbox: string | undefined;
  /** The mailbox this connection opened (kept after close, for checks). */
  mailboxId: string | undefined;
}

/** The server's end of one connection. */
export class FakeConnection {
  readonly id: number;
  side: string | undefined;
  appid: string | undefined;
  /** Client messages on this connection (after interception). */
  readonly received: ClientFrame[] = [];
  /** Frames the server sent (or injected) on this connection. */
  readonly sent: (string | Uint8Array)[] = [];
  /** @internal per-connection server bookkeeping */
  readonly state: ConnectionState = {
    didAllocate: false,
    didClaim: false,
    didRelease: false,
    didClose: false,
    nameplate: undefined,
    mailbox: undefined,
    mailboxId: undefined,
  };
  /** What the client holds. */
  readonly clientSide: FakeFrameConnection;

  readonly #handlers: FakeFrameHandlers;
  #phase: 'connecting' | 'open' | 'closed' = 'connecting';
  #closedReported = false;

  readonly #onEnd: (conn: FakeConnection) => void;

  constructor(
    id: number,
    handlers: FakeFrameHandlers,
    onFrame: (conn: FakeConnection, frame: string) => void,
    onEnd: (conn: FakeConnection) => void,
  ) {
    this.id = id;
    this.#handlers = handlers;
    this.#onEnd = onEnd;
    this.clientSide = {
      send: (frame) => {
        if (this.#phase !== 'open') return;
        if (typeof frame !== 'string') throw new TypeError('fake mailbox: clients must send text frames');
        later(() => {
          if (this.#phase === 'open') onFrame(this, frame);
        });
      },
      close: () => this.#end(undefined),
    };
  }

  get isOpen(): boolean {
    return this.#phase === 'open';
  }

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  /** @internal Move to open and tell the client; false if it was closed meanwhile. */
  opened(): boolean {
    if (this.#phase !== 'connecting') return false;
    this.#phase = 'open';
    this.#handlers.open();
    return true;
  }

  /** Send a JSON message to the client (asynchronously, in order). */
  send(message: Record<string, unknown>): void {
    this.inject(JSON.stringify(message));
  }

  /**
   * Send a raw frame to the client: any text, or bytes (a binary frame). With
   * `sync`, the client's `frame` handler runs before this returns.
   */
  inject(frame: string | Uint8Array, options: { sync?: boolean } = {}): void {
    if (this.#phase !== 'open') return;
    this.sent.push(frame);
    if (options.sync) {
      this.#handlers.frame(frame);
      return;
    }
    later(() => {
      if (this.#phase === 'open') this.#handlers.frame(frame);
    });
  }

  /** Server-side close: the client's `closed` runs (once) with `error`. */
  drop(error?: unknown): void {
    this.#end(error);
  }

  #end(error: unknown): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#onEnd(this);
    later(() => {
      if (this.#closedReported) return;
      this.#closedReported = true;
      this.#handlers.closed(error);
    });
  }
}

export { seededRandom, wrongCode } from './random.js';
