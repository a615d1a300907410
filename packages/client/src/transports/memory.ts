/**
 * An in-memory mailbox: the real server core ({@link MailboxCore} from
 * `@burrow/protocol/server`) behind a {@link MailboxTransport} that moves
 * frames without sockets. For tests of code built on wormholes:
 *
 *   const mailbox = new MemoryMailbox();
 *   const a = await createWormhole({ mailbox: mailbox.url, transport: mailbox.transport });
 *
 * Delivery is asynchronous in both directions, one frame per macrotask and
 * in order, like a socket. The server's answers are the gateway's, byte for
 * byte, because it is the same core. On top of it, hooks for tests: rewrite
 * or swallow client frames before the core sees them (`intercept`), inject
 * raw frames (`MemoryConnection.inject`), drop or refuse connections. What
 * the server holds is read from the core (see `MemoryMailbox` in
 * ./memory-mailbox.ts).
 */
import { isJsonObject, parseJsonObject, type RandomSource } from '@burrow/protocol';
import { MailboxCore, type ConnId, type MailboxEffect, type PermissionPolicy } from '@burrow/protocol/server';
import type { FrameConnection, FrameHandlers, MailboxTransport } from './types.js';

/** A client frame as the test hooks see it (parsed; `type` is a string). */
export interface ClientFrame {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * Sees every client frame (that parses as an object with a string `type`)
 * before the core does. Return `undefined` to pass it on, `null` to swallow
 * it (no ack, no answer), or another frame to hand the core instead.
 */
export type Interceptor = (frame: ClientFrame, connection: MemoryConnection) => ClientFrame | null | undefined;

export interface MemoryTransportOptions {
  /** Keys of the `welcome` every connection gets. Default `{ motd: 'in-memory mailbox for tests' }`. */
  readonly welcome?: Readonly<Record<string, unknown>>;
  /** URL to hand to `createWormhole`; never dialled. */
  readonly url?: string;
  /** The server's randomness. Default {@link lowestFirstRandom}: nameplates 1, 2, … in order. */
  readonly random?: RandomSource;
  /** The server's clock (ms). Default `Date.now`. */
  readonly now?: () => number;
  /** Ask for a permission before bind (e.g. `hashcashPermission(12)` from `@burrow/protocol/hashcash`). */
  readonly permission?: PermissionPolicy;
}

type RefuseMode = 'fail' | 'hang';

/** Run `fn` on a later macrotask (setImmediate where there is one). */
export const later: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => {
        (globalThis as unknown as { setImmediate(f: () => void): unknown }).setImmediate(fn);
      }
    : (fn) => {
        setTimeout(fn, 0);
      };

/**
 * Deterministic server randomness: zero bytes, except that every 8-byte
 * draw (a mailbox id) counts up. With it `allocate` hands out the lowest
 * free nameplate, as a person reading a test expects.
 */
export function lowestFirstRandom(): RandomSource {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    if (length === 8) {
      counter++;
      for (let i = 7, n = counter; i >= 0 && n > 0; i--, n = Math.floor(n / 256)) out[i] = n % 256;
    }
    return out;
  };
}

export class MemoryTransportServer {
  readonly url: string;
  /** Pass as `createWormhole({ transport })`. */
  readonly transport: MailboxTransport;
  /** The server core every connection talks to. */
  readonly core: MailboxCore;
  /** Every connection ever made, in order. */
  readonly connections: MemoryConnection[] = [];
  /** Every client frame the core was handed (after interception), in arrival order. */
  readonly log: { readonly connection: MemoryConnection; readonly message: ClientFrame }[] = [];
  readonly now: () => number;

  readonly #interceptors: Interceptor[] = [];
  readonly #refusals: RefuseMode[] = [];
  readonly #byConn = new Map<ConnId, MemoryConnection>();

  constructor(options: MemoryTransportOptions = {}) {
    this.url = options.url ?? 'ws://127.0.0.1:9/memory-mailbox/v1';
    this.now = options.now ?? Date.now;
    this.core = new MailboxCore({ random: options.random ?? lowestFirstRandom(), now: this.now(), ...(options.permission ? { permission: options.permission } : {}) });
    this.core.setWelcomeExtras(options.welcome ?? { motd: 'in-memory mailbox for tests' });
    this.transport = (_url, handlers) => this.#accept(handlers);
  }

  /** Connections that are open now. */
  get openConnections(): MemoryConnection[] {
    return this.connections.filter((c) => c.isOpen);
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

  /** Server-side close of every open connection (the network went away). */
  dropAll(error?: unknown): void {
    for (const c of this.openConnections) c.drop(error);
  }

  /** Perform the core's effects: frames go to their connections; logs are dropped. */
  protected perform(effects: readonly MailboxEffect[]): void {
    for (const e of effects) if (e.type === 'send') this.#byConn.get(e.to)?.inject(e.frame);
  }

  /**
   * Hand one client frame to the core, as `connection`. Subclasses look at
   * frames around it (see `MemoryMailbox`).
   */
  protected deliver(connection: MemoryConnection, conn: ConnId, frame: string, _parsed: ClientFrame | undefined): MailboxEffect[] {
    return this.core.receive(conn, frame, this.now());
  }

  #accept(handlers: FrameHandlers): FrameConnection {
    const connection = new MemoryConnection(this.connections.length + 1, handlers, {
      opened: () => {
        const { conn, effects } = this.core.connect(`memory-${connection.id}`, this.now());
        this.#byConn.set(conn, connection);
        this.perform(effects);
        return conn;
      },
      frame: (conn, frame) => this.#receive(connection, conn, frame),
      ended: (conn) => {
        this.#byConn.delete(conn);
        this.perform(this.core.disconnect(conn));
      },
    });
    this.connections.push(connection);
    const refusal = this.#refusals.shift();
    if (refusal === 'fail') later(() => connection.drop(new Error('memory mailbox: connection refused')));
    else if (refusal === undefined) later(() => connection.open());
    return connection.clientSide;
  }

  #receive(connection: MemoryConnection, conn: ConnId, frame: string): void {
    let parsed: ClientFrame | undefined;
    try {
      const obj = parseJsonObject(frame, { maxLength: this.core.limits.maxFrameBytes });
      if (typeof obj['type'] === 'string') parsed = obj as ClientFrame;
    } catch {
      // not for the hooks: the core answers it with an error
    }
    if (parsed) {
      for (const fn of this.#interceptors.slice()) {
        const out = fn(parsed, connection);
        if (out === null) return;
        if (out !== undefined && isJsonObject(out)) parsed = out;
      }
      frame = JSON.stringify(parsed);
      connection.received.push(parsed);
      this.log.push({ connection, message: parsed });
      if (parsed.type === 'bind' && connection.side === undefined && typeof parsed['side'] === 'string') {
        connection.side = parsed['side'];
        connection.appid = typeof parsed['appid'] === 'string' ? parsed['appid'] : undefined;
      }
    }
    this.perform(this.deliver(connection, conn, frame, parsed));
  }
}

interface ServerHooks {
  opened(): ConnId;
  frame(conn: ConnId, frame: string): void;
  ended(conn: ConnId): void;
}

/** The server's end of one in-memory connection. */
export class MemoryConnection {
  readonly id: number;
  /** The side it bound, once its `bind` went through. */
  side: string | undefined;
  appid: string | undefined;
  /** Client frames on this connection (after interception). */
  readonly received: ClientFrame[] = [];
  /** Frames the server sent (or a test injected) on this connection. */
  readonly sent: (string | Uint8Array)[] = [];
  /** What the client holds. */
  readonly clientSide: FrameConnection;

  readonly #handlers: FrameHandlers;
  readonly #server: ServerHooks;
  #phase: 'connecting' | 'open' | 'closed' = 'connecting';
  #conn: ConnId | undefined;

  constructor(id: number, handlers: FrameHandlers, server: ServerHooks) {
    this.id = id;
    this.#handlers = handlers;
    this.#server = server;
    this.clientSide = {
      send: (frame) => {
        if (this.#phase !== 'open') return;
        if (typeof frame !== 'string') throw new TypeError('memory mailbox: clients send text frames');
        later(() => {
          if (this.#phase === 'open' && this.#conn !== undefined) server.frame(this.#conn, frame);
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

  /** @internal The connection is made: tell the client, then let the core welcome it. */
  open(): void {
    if (this.#phase !== 'connecting') return;
    this.#phase = 'open';
    this.#handlers.open();
    if (this.#phase === 'open') this.#conn = this.#server.opened();
  }

  /** Send a JSON message to the client (asynchronously, in order), bypassing the core. */
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
    if (this.#conn !== undefined) this.#server.ended(this.#conn);
    later(() => this.#handlers.closed(error));
  }
}
