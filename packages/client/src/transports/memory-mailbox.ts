/**
 * {@link MemoryMailbox}: the in-memory mailbox of ./memory.ts plus what tests
 * ask of a server — what it holds (read from the core's state), which sides
 * closed with which mood, and a hand-played peer that adds messages.
 *
 *   const mailbox = new MemoryMailbox();
 *   const w = await createWormhole({ mailbox: mailbox.url, transport: mailbox.transport });
 *   await mailbox.waitFor(() => mailbox.messages('add', w.side).length > 0, 'our pake');
 *   expect(mailbox.closes.map((c) => c.mood)).toEqual(['happy']);
 */
import type { ConnId, MailboxEffect, StoredMessage, StoredState } from '@burrow/protocol/server';
import { later, MemoryTransportServer, type ClientFrame, type MemoryConnection } from './memory.js';

export { later };

/** A nameplate as the server holds it. */
export interface MemoryNameplate {
  readonly id: string;
  readonly app: string;
  readonly mailbox: string;
  /** Sides holding a claim. */
  readonly claimed: Set<string>;
}

/** A mailbox as the server holds it. */
export interface MemoryMailboxRecord {
  readonly id: string;
  readonly app: string;
  readonly messages: readonly StoredMessage[];
  /** Sides that opened it and have not closed it. */
  readonly open: Set<string>;
  /** Every side that opened it. */
  readonly sides: Set<string>;
}

/** A `close` that closed a side's mailbox, for assertions on moods. */
export interface CloseRecord {
  readonly mailbox: string;
  readonly side: string;
  readonly mood: unknown;
}

/** A message a test adds as a peer would (see {@link MemoryMailbox.addMessage}). */
export interface PeerMessage {
  readonly side: string;
  readonly phase: string;
  readonly body: string;
}

export class MemoryMailbox extends MemoryTransportServer {
  /** Closes that closed a side (in order); a repeated close is not counted again. */
  readonly closes: CloseRecord[] = [];
  readonly #peers = new Map<string, ConnId>();
  readonly #opened = new Map<MemoryConnection, string>();

  /** Nameplates now, by id (all apps). */
  get nameplates(): Map<string, MemoryNameplate> {
    const out = new Map<string, MemoryNameplate>();
    for (const n of this.state().nameplates) {
      out.set(n.name, { id: n.name, app: n.app, mailbox: n.mailbox, claimed: new Set(n.sides.filter((s) => s.claimed).map((s) => s.side)) });
    }
    return out;
  }

  /** Mailboxes now, by id (all apps). */
  get mailboxes(): Map<string, MemoryMailboxRecord> {
    const out = new Map<string, MemoryMailboxRecord>();
    for (const m of this.state().mailboxes) {
      const open = new Set(m.sides.filter((s) => s.open).map((s) => s.side));
      out.set(m.id, { id: m.id, app: m.app, messages: m.messages, open, sides: new Set(m.sides.map((s) => s.side)) });
    }
    return out;
  }

  /** Everything the core holds, as its stored model. */
  state(): StoredState {
    return this.core.snapshot();
  }

  /** The connection most recently opened by `side` (after its `bind`). */
  connectionOf(side: string): MemoryConnection | undefined {
    return this.connections.filter((c) => c.side === side).at(-1);
  }

  /** Client frames of one type, optionally from one side. */
  messages(type: string, side?: string): ClientFrame[] {
    return this.log.filter((e) => e.message.type === type && (side === undefined || e.connection.side === side)).map((e) => e.message);
  }

  /** The mailbox id a nameplate points to (once claimed or allocated). */
  mailboxOf(nameplate: string): string | undefined {
    return this.nameplates.get(nameplate)?.mailbox;
  }

  /**
   * Add a message to `mailbox` as a peer bound as `message.side` would: the
   * peer (a connection of its own, not in `connections`) opens the mailbox
   * once, then adds. Every listener hears it, as from a real peer.
   */
  addMessage(mailbox: string, message: PeerMessage): void {
    const app = this.mailboxes.get(mailbox)?.app ?? this.connections.find((c) => c.appid !== undefined)?.appid;
    if (app === undefined) throw new Error(`memory mailbox: no app for mailbox ${mailbox}`);
    const key = JSON.stringify([app, mailbox, message.side]);
    let peer = this.#peers.get(key);
    const now = this.now();
    const run = (effects: readonly MailboxEffect[]) => this.perform(effects.filter((e) => e.type !== 'send' || e.to !== peer));
    if (peer === undefined) {
      const made = this.core.connect(`memory-peer-${message.side}`, now);
      peer = made.conn;
      this.#peers.set(key, peer);
      run(this.core.receive(peer, JSON.stringify({ type: 'bind', appid: app, side: message.side }), now));
      run(this.core.receive(peer, JSON.stringify({ type: 'open', mailbox }), now));
    }
    run(this.core.receive(peer, JSON.stringify({ type: 'add', phase: message.phase, body: message.body }), now));
  }

  /**
   * Poll until `check()` is truthy (each macrotask), failing after `timeoutMs`.
   * A bounded wait for a condition, not a sleep.
   */
  async waitFor<T>(check: () => T | undefined | null | false, what = 'condition', timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`memory mailbox: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => later(resolve));
    }
  }

  /** Record a close when it closes a side that had the mailbox open. */
  protected override deliver(connection: MemoryConnection, conn: ConnId, frame: string, parsed: ClientFrame | undefined): MailboxEffect[] {
    if (parsed?.type === 'open' && typeof parsed['mailbox'] === 'string') this.#opened.set(connection, parsed['mailbox']);
    if (parsed?.type !== 'close' || connection.side === undefined) return super.deliver(connection, conn, frame, parsed);
    const side = connection.side;
    const mailbox = typeof parsed['mailbox'] === 'string' ? parsed['mailbox'] : this.#opened.get(connection);
    const before = this.mailboxes.get(mailbox ?? '');
    const wasOpen = before !== undefined && before.open.has(side) && before.app === connection.appid;
    const effects = super.deliver(connection, conn, frame, parsed);
    const closed = effects.some((e) => e.type === 'send' && e.to === conn && e.frame.startsWith('{"type":"closed"'));
    if (wasOpen && closed && mailbox !== undefined) this.closes.push({ mailbox, side, mood: parsed['mood'] });
    return effects;
  }
}
