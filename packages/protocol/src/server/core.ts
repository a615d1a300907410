/**
 * The mailbox server's protocol, sans I/O: one object that takes client
 * connections, frames, disconnects and clock ticks, and answers with frames
 * to send and log events. Transports (the gateway's WebSocket and
 * WebTransport listeners, the client's in-memory test transport) only move
 * frames.
 *
 * Per connection it follows wormhole_mailbox_server/server_websocket.py
 * (0.4.1) line by line: `welcome` on connect; every frame with a `type` is
 * acked (echoing its `id`) before it is handled; `bind` comes first; one
 * `allocate`, `claim`, `release` and `close` per connection; `open` again only
 * after `close`; the error strings are Python's. The rules about nameplates
 * and mailboxes live in {@link MailboxRules}.
 */
import { encodeServerFrame, get, has, parseClientFrame, type ClientFrame, type ServerFrame } from './frames.js';
import type { StoreChange, StoredMessage, StoredState } from './model.js';
import type { RandomSource } from '../logger.js';
import { DEFAULT_SESSION_LIMITS, ERR_CROWDED, MailboxRuleError, type MailboxLimits, type SessionLimits } from './limits.js';
import { MailboxRules, type RulesStats } from './rules.js';
import type { UsageRecord } from './usage.js';
import { welcomeKeys, type WelcomeOptions } from './welcome.js';
import { newConn, type Conn, type ConnId } from './conn.js';
import { ERR_PERMISSION_REQUIRED, PERMISSION_WELCOME_KEY, SUBMIT_PERMISSION_SINGULAR, SUBMIT_PERMISSIONS, type PermissionPolicy } from './permission.js';

export type { WelcomeOptions } from './welcome.js';
export type { ConnId } from './conn.js';

export interface MailboxCoreOptions {
  readonly random: RandomSource;
  readonly welcome?: WelcomeOptions;
  /** Keys added to each connection's welcome, made at connect time (e.g. short-lived TURN credentials). */
  readonly welcomeFor?: (now: number) => Readonly<Record<string, unknown>>;
  /** Answer `list` with the nameplates in use (default true; Python's --disallow-list turns it off). */
  readonly allowList?: boolean;
  /** Require a permission (e.g. `hashcashPermission(20)` from `@burrow/protocol/hashcash`) before any command but ping. Off by default. */
  readonly permission?: PermissionPolicy;
  readonly limits?: Partial<MailboxLimits>;
  /** Stored state to resume from. */
  readonly restored?: StoredState;
  /** The time of the restore (ms since the epoch); restored things count as touched then. */
  readonly now: number;
}

export type LogLevel = 'debug' | 'info' | 'warn';

export type MailboxEffect =
  | { readonly type: 'send'; readonly to: ConnId; readonly frame: string }
  | { readonly type: 'log'; readonly level: LogLevel; readonly event: string; readonly fields: Record<string, unknown> };

/** A refusal answered with `{type: "error", error, orig}`; `limit` names the bound behind it, if any. */
class ProtocolError extends Error {
  constructor(
    readonly explain: string,
    readonly limit?: string,
  ) {
    super(explain);
  }
}

export interface MailboxCoreStats extends RulesStats {
  connections: number;
}

export class MailboxCore {
  readonly #rules: MailboxRules;
  #welcome: Readonly<Record<string, unknown>>;
  readonly #welcomeFor: MailboxCoreOptions['welcomeFor'];
  readonly #allowList: boolean;
  readonly #random: RandomSource;
  readonly #permission: PermissionPolicy | undefined;
  readonly #limits: SessionLimits;
  readonly #conns = new Map<ConnId, Conn>();
  #nextId = 1;
  #out: MailboxEffect[] = [];

  constructor(options: MailboxCoreOptions) {
    this.#rules = new MailboxRules({ random: options.random, ...(options.limits ? { limits: options.limits } : {}) });
    if (options.restored) this.#rules.restore(options.restored, options.now);
    this.#allowList = options.allowList ?? true;
    this.#welcomeFor = options.welcomeFor;
    this.#random = options.random;
    this.#permission = options.permission;
    this.#limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
    this.#welcome = welcomeKeys(options.welcome);
  }

  get limits(): SessionLimits {
    return this.#limits;
  }

  /**
   * Add keys to the welcome every new connection gets. Clients ignore keys
   * they do not know (Python reads only motd, error, current_cli_version).
   */
  setWelcomeExtras(extras: Readonly<Record<string, unknown>>): void {
    this.#welcome = { ...extras, ...this.#welcome };
  }

  /** A new client connection from `address`: answers with `welcome`. */
  connect(address: string, now: number): { conn: ConnId; effects: MailboxEffect[] } {
    const id = this.#nextId++;
    const offer = this.#permission?.offer(this.#random);
    this.#conns.set(id, newConn(id, address, offer?.token));
    const welcome = { ...this.#welcomeFor?.(now), ...this.#welcome, ...(offer ? { [PERMISSION_WELCOME_KEY]: offer.welcome } : {}) };
    this.#send(id, { type: 'welcome', welcome }, now);
    return { conn: id, effects: this.#flush() };
  }

  /** One frame from `conn`. */
  receive(conn: ConnId, data: string | Uint8Array, now: number): MailboxEffect[] {
    const c = this.#conns.get(conn);
    if (!c) return [];
    const parsed = parseClientFrame(data, this.#limits.maxFrameBytes);
    if (!parsed.ok) {
      // Python drops the connection when json.loads fails or gives a
      // non-object; we answer with an error and keep going.
      this.#log('debug', 'mailbox.bad-frame', { conn, reason: parsed.reason });
      this.#send(conn, { type: 'error', error: `invalid frame (${parsed.reason.replace('-', ' ')})`, orig: null }, now);
      return this.#flush();
    }
    const msg = parsed.frame;
    try {
      this.#handle(c, msg, now);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#send(conn, { type: 'error', error: err.explain, orig: msg }, now);
        this.#logRefusal(c, err);
      } else {
        throw err;
      }
    }
    return this.#flush();
  }

  /** `conn` went away (its claims and open mailboxes stay, for a reconnect). */
  disconnect(conn: ConnId): MailboxEffect[] {
    const c = this.#conns.get(conn);
    if (!c) return [];
    this.#conns.delete(conn);
    if (c.open && c.listening && c.app !== undefined && c.mailboxId !== undefined) {
      this.#rules.unsubscribe(c.app, c.mailboxId, conn);
    }
    return this.#flush();
  }

  /** Expire what was abandoned for `expiryMs`. */
  prune(now: number, expiryMs: number): MailboxEffect[] {
    const result = this.#rules.prune(now, expiryMs);
    if (result.nameplates > 0 || result.mailboxes > 0) this.#log('info', 'mailbox.pruned', { ...result });
    return this.#flush();
  }

  /** Changes to persist since the last call. */
  takeChanges(): StoreChange[] {
    return this.#rules.takeChanges();
  }

  /** Usage records (one per deleted nameplate or mailbox) since the last call. */
  takeUsage(): UsageRecord[] {
    return this.#rules.takeUsage();
  }

  /** Everything the server holds now, as the stored model (for inspection). */
  snapshot(): StoredState {
    return this.#rules.snapshot();
  }

  stats(): MailboxCoreStats {
    return { ...this.#rules.stats(), connections: this.#conns.size };
  }

  /**
   * Whether `conn` is in no wormhole: it holds no nameplate (or released it)
   * and has no mailbox open. A draining server closes such connections at
   * once and lets the others finish. Unknown connections count as idle.
   */
  isIdle(conn: ConnId): boolean {
    const c = this.#conns.get(conn);
    return !c || (!c.open && (c.nameplate === undefined || c.didRelease));
  }

  #handle(c: Conn, msg: ClientFrame, now: number): void {
    if (!has(msg, 'type')) throw new ProtocolError("missing 'type'");
    this.#send(c.id, { type: 'ack', id: get(msg, 'id') }, now);
    const type = get(msg, 'type');
    if (type === 'ping') return this.#ping(c, msg, now);
    if (type === SUBMIT_PERMISSIONS || type === SUBMIT_PERMISSION_SINGULAR) return this.#submitPermission(c, msg, now);
    if (c.permission !== undefined) throw new ProtocolError(ERR_PERMISSION_REQUIRED, 'permission');
    if (type === 'bind') return this.#bind(c, msg);
    if (c.app === undefined || c.side === undefined) throw new ProtocolError('must bind first');
    const bound = c as Conn & { app: string; side: string };
    switch (type) {
      case 'list':
        return this.#list(bound, now);
      case 'allocate':
        return this.#allocate(bound, now);
      case 'claim':
        return this.#claim(bound, msg, now);
      case 'release':
        return this.#release(bound, msg, now);
      case 'open':
        return this.#open(bound, msg, now);
      case 'add':
        return this.#add(bound, msg, now);
      case 'close':
        return this.#close(bound, msg, now);
      default:
        throw new ProtocolError('unknown type');
    }
  }

  #ping(c: Conn, msg: ClientFrame, now: number): void {
    if (!has(msg, 'ping')) throw new ProtocolError("ping requires 'ping'");
    this.#send(c.id, { type: 'pong', pong: get(msg, 'ping') }, now);
  }

  /** A permission answer: grants the connection, or is refused (it may try again). Repeats after a grant are ignored. */
  #submitPermission(c: Conn, msg: ClientFrame, now: number): void {
    if (c.permission === undefined || !this.#permission) return;
    const problem = this.#permission.check(msg, c.permission, now);
    if (problem !== undefined) throw new ProtocolError(`permission refused: ${problem}`, 'permission');
    c.permission = undefined;
    this.#log('debug', 'mailbox.permission', { conn: c.id });
  }

  #bind(c: Conn, msg: ClientFrame): void {
    if (c.app !== undefined || c.side !== undefined) throw new ProtocolError('already bound');
    if (!has(msg, 'appid')) throw new ProtocolError("bind requires 'appid'");
    if (!has(msg, 'side')) throw new ProtocolError("bind requires 'side'");
    const appid = this.#field(msg, 'appid');
    const side = this.#field(msg, 'side');
    c.app = appid;
    c.side = side;
    const version = get(msg, 'client_version');
    const impl = Array.isArray(version) && typeof version[0] === 'string' ? version[0].slice(0, 32) : null;
    this.#log('debug', 'mailbox.bind', { conn: c.id, client: impl });
  }

  #list(c: Conn & { app: string }, now: number): void {
    const ids = this.#allowList ? this.#rules.nameplateIds(c.app) : [];
    this.#send(c.id, { type: 'nameplates', nameplates: ids.map((id) => ({ id })) }, now);
  }

  #allocate(c: Conn & { app: string; side: string }, now: number): void {
    if (c.didAllocate) throw new ProtocolError("you already allocated one, don't be greedy");
    const nameplate = this.#rule(() => this.#rules.allocate(c.app, c.side, now, c.address));
    c.didAllocate = true;
    this.#send(c.id, { type: 'allocated', nameplate }, now);
  }

  #claim(c: Conn & { app: string; side: string }, msg: ClientFrame, now: number): void {
    if (!has(msg, 'nameplate')) throw new ProtocolError("claim requires 'nameplate'");
    if (c.didClaim) throw new ProtocolError('only one claim per connection');
    const nameplate = this.#field(msg, 'nameplate');
    c.didClaim = true;
    c.nameplate = nameplate;
    const mailbox = this.#rule(() => this.#rules.claim(c.app, nameplate, c.side, now, c.address));
    this.#send(c.id, { type: 'claimed', mailbox }, now);
  }

  #release(c: Conn & { app: string; side: string }, msg: ClientFrame, now: number): void {
    if (c.didRelease) throw new ProtocolError('only one release per connection');
    const nameplate = this.#namedOrEarlier(msg, 'nameplate', c.nameplate, 'release and claim must use same nameplate', 'release without nameplate must follow claim');
    c.didRelease = true;
    this.#rules.release(c.app, nameplate, c.side, now);
    this.#send(c.id, { type: 'released' }, now);
  }

  /**
   * `release` and `close` may name their nameplate/mailbox or leave it to the
   * one this connection claimed/opened; a named one must be that one.
   */
  #namedOrEarlier(msg: ClientFrame, key: string, earlier: string | undefined, mismatch: string, missing: string): string {
    if (!has(msg, key)) {
      if (earlier === undefined) throw new ProtocolError(missing);
      return earlier;
    }
    const named = this.#field(msg, key);
    if (earlier !== undefined && named !== earlier) throw new ProtocolError(mismatch);
    return named;
  }

  #open(c: Conn & { app: string; side: string }, msg: ClientFrame, now: number): void {
    if (c.open) throw new ProtocolError('only one open per connection');
    if (!has(msg, 'mailbox')) throw new ProtocolError("open requires 'mailbox'");
    const mailbox = this.#field(msg, 'mailbox');
    c.mailboxId = mailbox;
    this.#rule(() => this.#rules.open(c.app, mailbox, c.side, now, c.address));
    c.open = true;
    c.listening = true;
    for (const m of this.#rules.subscribe(c.app, mailbox, c.id)) this.#send(c.id, messageFrame(m), now);
  }

  #add(c: Conn & { app: string; side: string }, msg: ClientFrame, now: number): void {
    if (!c.open || c.mailboxId === undefined) throw new ProtocolError('must open mailbox before adding');
    if (!has(msg, 'phase')) throw new ProtocolError("missing 'phase'");
    if (!has(msg, 'body')) throw new ProtocolError("missing 'body'");
    const phase = this.#field(msg, 'phase');
    const body = get(msg, 'body');
    if (typeof body !== 'string') throw new ProtocolError("'body' must be a string");
    const id = get(msg, 'id');
    const message: StoredMessage = {
      side: c.side,
      phase,
      body,
      serverRx: now,
      id: typeof id === 'string' && id.length <= this.#limits.maxFieldChars ? id : null,
    };
    const mailboxId = c.mailboxId;
    const listeners = this.#rule(() => this.#rules.add(c.app, mailboxId, message, c.address));
    if (listeners.length === 0) return;
    const frame = encodeServerFrame(messageFrame(message), now);
    for (const to of listeners) this.#out.push({ type: 'send', to, frame });
  }

  #close(c: Conn & { app: string; side: string }, msg: ClientFrame, now: number): void {
    if (c.didClose) throw new ProtocolError('only one close per connection');
    const mailbox = this.#namedOrEarlier(msg, 'mailbox', c.mailboxId, 'open and close must use same mailbox', 'close without mailbox must follow open');
    const moodValue = get(msg, 'mood');
    const mood = typeof moodValue === 'string' ? moodValue.slice(0, 64) : null;
    if (!c.open) {
      // Closing a mailbox this connection never opened (a close re-sent
      // after a reconnect): open it first, as Python does.
      this.#rule(() => this.#rules.open(c.app, mailbox, c.side, now, c.address));
      c.open = true;
    }
    if (c.listening) {
      this.#rules.unsubscribe(c.app, mailbox, c.id);
      c.listening = false;
    }
    c.didClose = true;
    this.#rules.close(c.app, mailbox, c.side, mood, now);
    c.open = false;
    this.#log('debug', 'mailbox.close', { conn: c.id, mood });
    this.#send(c.id, { type: 'closed' }, now);
  }

  /** A string field within the length bound (its presence already checked). */
  #field(msg: ClientFrame, name: string): string {
    const value = get(msg, name);
    if (typeof value !== 'string') throw new ProtocolError(`'${name}' must be a string`);
    if (value.length > this.#limits.maxFieldChars) throw new ProtocolError(`'${name}' is too long`);
    return value;
  }

  /** Run a rule, turning its refusals into protocol errors. */
  #rule<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof MailboxRuleError) throw new ProtocolError(err.explain, err.limit);
      throw err;
    }
  }

  #logRefusal(c: Conn, err: ProtocolError): void {
    const explain = err.explain;
    const fields = { conn: c.id, address: c.address, error: explain };
    if (err.limit !== undefined) {
      this.#log('warn', 'mailbox.limit', { ...fields, limit: err.limit });
    } else if (explain === ERR_CROWDED) {
      this.#log('info', 'mailbox.crowded', fields);
    } else {
      this.#log('debug', 'mailbox.refused', fields);
    }
  }

  #send(to: ConnId, frame: ServerFrame, now: number): void {
    this.#out.push({ type: 'send', to, frame: encodeServerFrame(frame, now) });
  }

  #log(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    this.#out.push({ type: 'log', level, event, fields });
  }

  #flush(): MailboxEffect[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

function messageFrame(m: StoredMessage): ServerFrame {
  return { type: 'message', side: m.side, phase: m.phase, body: m.body, server_rx: m.serverRx / 1000, id: m.id };
}
