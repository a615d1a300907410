/**
 * The session tests' harness: Sessions talking through the real mailbox
 * server core (MailboxCore). Everything is synchronous and deterministic: a
 * FIFO "network" carries inputs to the sessions and client frames to the
 * server, timers fire when the network is idle, and a connection can be
 * dropped between any two deliveries.
 *
 * Frames cross the edge as JSON (encodeClientMessage / parseServerMessage),
 * so the sessions see exactly what a driver would feed them.
 */
import { expect } from 'vitest';
import { fromUtf8, toHex, utf8 } from '../../src/bytes.js';
import type { WormholeError } from '../../src/errors.js';
import { encodeClientMessage, parseServerMessage } from '../../src/messages.js';
import { Session, type SessionInput } from '../../src/machines/session.js';
import type { IoEffect } from '../../src/machines/types.js';
import { MailboxCore, type ConnId, type MailboxEffect, type StoredMessage } from '../../src/server/index.js';
import { seededRandom } from '@burrow/testkit';

export const APPID = 'example.com/burrow-session-test';
/** The server's clock: fixed (nothing here expires). */
const NOW = 1_700_000_000_000;


export interface Peer {
  readonly name: string;
  readonly side: string;
  readonly session: Session;
  /** Generation of the live connection, or undefined when offline. */
  conn: number | undefined;
  generation: number;
  timerPending: boolean;
  code?: string;
  key?: string;
  verifier?: string;
  versions?: Record<string, unknown>;
  welcome?: unknown;
  readonly messages: string[];
  result?: 'happy' | WormholeError;
  closeSent: boolean;
  connects: number;
}

type Item =
  | { readonly kind: 'to-peer'; readonly peer: Peer; readonly gen: number | undefined; readonly input: SessionInput }
  | { readonly kind: 'to-server'; readonly peer: Peer; readonly gen: number; readonly frame: string };

interface ServerConn {
  side?: string;
  nameplate?: string;
  mailbox?: string;
}

/**
 * The real mailbox server core, driven by hand: one core connection per
 * (peer, generation), its answers queued on the network. It records what
 * the scenarios check: client frames with the side that sent them, moods,
 * and the mailboxes of allocated nameplates; nameplates and mailboxes are
 * read from the core's state.
 */
export class CoreServer {
  readonly core = new MailboxCore({ random: seededRandom(7), now: NOW });
  readonly moods: { side: string; mood: unknown }[] = [];
  /** Mailboxes of allocated nameplates (only leftovers are checked against this). */
  readonly allocatedMailboxes: string[] = [];
  readonly received: { side: string | undefined; message: Record<string, unknown> }[] = [];
  readonly #conns = new Map<string, { readonly id: ConnId; readonly peer: Peer; readonly gen: number; side?: string; mailbox?: string }>();

  constructor(readonly net: Network) {}

  /** Nameplates now: id → its mailbox and the sides that claim it. */
  get nameplates(): Map<string, { mailbox: string; claimed: Set<string> }> {
    return new Map(this.core.snapshot().nameplates.map((n) => [n.name, { mailbox: n.mailbox, claimed: new Set(n.sides.filter((s) => s.claimed).map((s) => s.side)) }]));
  }

  /** Mailboxes now: id → its messages and the sides that have it open. */
  get mailboxes(): Map<string, { messages: readonly StoredMessage[]; open: Set<string> }> {
    return new Map(this.core.snapshot().mailboxes.map((m) => [m.id, { messages: m.messages, open: new Set(m.sides.filter((s) => s.open).map((s) => s.side)) }]));
  }

  /** A new connection for `peer`: the core welcomes it. */
  connect(peer: Peer, gen: number): void {
    const { conn, effects } = this.core.connect(peer.name, NOW);
    this.#conns.set(key(peer, gen), { id: conn, peer, gen });
    this.#perform(effects);
  }

  forget(peer: Peer, gen: number): void {
    const c = this.#conns.get(key(peer, gen));
    if (!c) return;
    this.#conns.delete(key(peer, gen));
    this.#perform(this.core.disconnect(c.id));
  }

  handle(peer: Peer, gen: number, frame: string): void {
    const c = this.#conns.get(key(peer, gen));
    if (!c) throw new Error(`${peer.name} sent on a connection the server never saw`);
    const m = JSON.parse(frame) as Record<string, unknown>;
    this.received.push({ side: c.side, message: m });
    if (m['type'] === 'bind') c.side = m['side'] as string;
    if (m['type'] === 'open') c.mailbox = m['mailbox'] as string;
    const closing = m['type'] === 'close' ? ((m['mailbox'] as string | undefined) ?? c.mailbox) : undefined;
    const wasOpen = closing !== undefined && (this.mailboxes.get(closing)?.open.has(c.side!) ?? false);
    const effects = this.core.receive(c.id, frame, NOW);
    const answers = effects.flatMap((e) => (e.type === 'send' && e.to === c.id ? [JSON.parse(e.frame) as Record<string, unknown>] : []));
    this.#perform(effects);
    const answer = answers.find((a) => a['type'] !== 'ack');
    if (answer?.['type'] === 'allocated') this.allocatedMailboxes.push(this.nameplates.get(answer['nameplate'] as string)!.mailbox);
    if (answer?.['type'] === 'closed' && (wasOpen || !this.moods.some((x) => x.side === c.side))) this.moods.push({ side: c.side!, mood: m['mood'] });
    if (m['type'] === 'add' && answer?.['type'] !== 'error') this.net.afterAdd?.(peer, m['phase'] as string);
  }

  #perform(effects: readonly MailboxEffect[]): void {
    for (const e of effects) {
      if (e.type !== 'send') continue;
      const target = [...this.#conns.values()].find((c) => c.id === e.to);
      if (target) this.net.toPeer(target.peer, target.gen, JSON.parse(e.frame) as Record<string, unknown>);
    }
  }
}

const key = (peer: Peer, gen: number): string => `${peer.name}/${gen}`;

export class Network {
  readonly queue: Item[] = [];
  readonly peers: Peer[] = [];
  readonly server = new CoreServer(this);
  deliveries = 0;
  /** Connections asked for and not made yet: peer → generation. */
  readonly pendingConnects = new Map<Peer, number>();
  #ids = 0;
  /** Called before each delivery with its number; may drop connections. */
  beforeDelivery?: (n: number) => void;
  /** Called after the server stored an add. */
  afterAdd?: (peer: Peer, phase: string) => void;
  /** Called after each delivery; the test's "application". */
  onIdleStep?: () => void;

  addPeer(name: string, side: string, seed: number): Peer {
    const session = new Session({ side, appid: APPID, random: seededRandom(seed), appVersions: { peer: name } });
    const peer: Peer = { name, side, session, conn: undefined, generation: 0, timerPending: false, messages: [], closeSent: false, connects: 0 };
    this.peers.push(peer);
    return peer;
  }

  toPeer(peer: Peer, gen: number, msg: Record<string, unknown>): void {
    this.queue.push({ kind: 'to-peer', peer, gen, input: { type: 'server_message', message: parseServerMessage(JSON.stringify(msg)) } });
  }

  /** Feed a peer an input now and perform its effects. */
  input(peer: Peer, input: SessionInput): void {
    for (const effect of peer.session.handle(input)) this.#perform(peer, effect);
  }

  /** The connection goes away under the peer (no close from its side). */
  drop(peer: Peer): boolean {
    if (peer.conn === undefined) return false;
    this.server.forget(peer, peer.conn);
    peer.conn = undefined;
    this.input(peer, { type: 'connection_lost' });
    return true;
  }

  #perform(peer: Peer, effect: IoEffect): void {
    switch (effect.type) {
      case 'connect': {
        const gen = ++peer.generation;
        peer.connects++;
        // connection_made arrives later, through the network
        this.queue.push({ kind: 'to-peer', peer, gen: undefined, input: { type: 'connection_made' } });
        this.pendingConnects.set(peer, gen);
        return;
      }
      case 'disconnect':
        if (peer.conn !== undefined) {
          this.server.forget(peer, peer.conn);
          peer.conn = undefined;
        }
        this.pendingConnects.delete(peer);
        this.queue.push({ kind: 'to-peer', peer, gen: undefined, input: { type: 'connection_lost' } });
        return;
      case 'transmit':
        expect(peer.conn, `${peer.name} transmitted ${effect.message.type} while offline`).toBeDefined();
        this.#ids++;
        this.queue.push({ kind: 'to-server', peer, gen: peer.conn!, frame: encodeClientMessage(effect.message, toHex(new Uint8Array([this.#ids >> 8, this.#ids & 0xff]))) });
        return;
      case 'set_timer':
        expect(effect.ms).toBeGreaterThan(0);
        peer.timerPending = true;
        return;
      case 'cancel_timer':
        peer.timerPending = false;
        return;
      case 'welcome':
        peer.welcome = effect.welcome;
        return;
      case 'code':
        expect(peer.code).toBeUndefined();
        peer.code = effect.code;
        return;
      case 'key':
        expect(peer.key).toBeUndefined();
        peer.key = toHex(effect.key);
        peer.verifier = toHex(effect.verifier);
        return;
      case 'versions':
        expect(peer.versions).toBeUndefined();
        peer.versions = effect.versions;
        return;
      case 'message':
        peer.messages.push(fromUtf8(effect.plaintext));
        return;
      case 'closed':
        expect(peer.result, `${peer.name} closed twice`).toBeUndefined();
        peer.result = effect.result;
        return;
    }
  }

  /** Deliver until nothing is in flight and no timer is pending. */
  run(limit = 20_000): void {
    for (;;) {
      const item = this.queue.shift();
      if (!item) {
        const waiting = this.peers.find((p) => p.timerPending);
        if (!waiting) return;
        waiting.timerPending = false;
        this.input(waiting, { type: 'timer' });
        continue;
      }
      this.deliveries++;
      if (this.deliveries > limit) throw new Error(`no quiescence after ${limit} deliveries: ${JSON.stringify(this.peers.map((p) => p.session.snapshot()))}`);
      this.beforeDelivery?.(this.deliveries);
      this.#deliver(item);
      this.onIdleStep?.();
    }
  }

  #deliver(item: Item): void {
    const { peer } = item;
    if (item.kind === 'to-server') {
      if (peer.conn !== item.gen) return; // lost with its connection
      this.server.handle(peer, item.gen, item.frame);
      return;
    }
    if (item.input.type === 'connection_made') {
      const gen = this.pendingConnects.get(peer);
      if (gen === undefined) return;
      this.pendingConnects.delete(peer);
      peer.conn = gen;
      this.input(peer, item.input);
      this.server.connect(peer, gen);
      return;
    }
    if (item.input.type === 'connection_lost') {
      this.input(peer, item.input);
      return;
    }
    if (item.gen !== undefined && peer.conn !== item.gen) return; // for a dead connection
    this.input(peer, item.input);
  }
}

// ---------------------------------------------------------------- scenarios

export interface ExchangeOptions {
  readonly codeB?: (code: string) => string;
  readonly fromA?: readonly string[];
  readonly fromB?: readonly string[];
  readonly drop?: { readonly at: number; readonly who: 'A' | 'B' | 'both' };
  readonly setup?: (net: Network, a: Peer, b: Peer) => void;
}

/** A allocates a code, B types it; both send their messages and close once everything arrived. */
export function exchange(options: ExchangeOptions = {}) {
  const net = new Network();
  const a = net.addPeer('A', 'a0a0a0a0a0', 1);
  const b = net.addPeer('B', 'b1b1b1b1b1', 2);
  const fromA = options.fromA ?? ['a-zero', 'a-one', 'a-two'];
  const fromB = options.fromB ?? ['b-zero', 'b-one'];
  const dropped: string[] = [];
  if (options.drop) {
    const { at, who } = options.drop;
    net.beforeDelivery = (n) => {
      if (n !== at) return;
      if (who !== 'B' && net.drop(a)) dropped.push('A');
      if (who !== 'A' && net.drop(b)) dropped.push('B');
    };
  }
  const stored = (p: Peer, n: number) => {
    const mailboxes = [...net.server.mailboxes.values()];
    return mailboxes.some((mb) => Array.from({ length: n }, (_, i) => String(i)).every((ph) => mb.messages.some((m) => m.side === p.side && m.phase === ph)));
  };
  let bStarted = false;
  net.onIdleStep = () => {
    if (!bStarted && a.code !== undefined) {
      bStarted = true;
      net.input(b, { type: 'set_code', code: options.codeB ? options.codeB(a.code) : a.code });
      for (const m of fromB) net.input(b, { type: 'send', plaintext: utf8(m) });
    }
    for (const [p, expected, mine] of [
      [a, fromB.length, fromA.length],
      [b, fromA.length, fromB.length],
    ] as const) {
      if (!p.closeSent && p.result === undefined && p.versions && p.messages.length >= expected && stored(p, mine)) {
        p.closeSent = true;
        net.input(p, { type: 'close' });
      }
    }
  };
  options.setup?.(net, a, b);
  net.input(a, { type: 'start' });
  net.input(a, { type: 'allocate_code', words: 2 });
  for (const m of fromA) net.input(a, { type: 'send', plaintext: utf8(m) });
  net.input(b, { type: 'start' });
  net.run();
  return { net, a, b, fromA, fromB, dropped };
}

export function expectHappy({ net, a, b, fromA, fromB }: ReturnType<typeof exchange>) {
  expect(a.result).toBe('happy');
  expect(b.result).toBe('happy');
  expect(a.code).toMatch(/^\d+-[a-z]+-[a-z]+$/);
  expect(b.code).toBe(a.code);
  expect(a.key).toBeDefined();
  expect(a.key).toBe(b.key);
  expect(a.verifier).toBe(b.verifier);
  expect(a.verifier).not.toBe(a.key);
  expect(a.versions).toEqual({ app_versions: { peer: 'B' } });
  expect(b.versions).toEqual({ app_versions: { peer: 'A' } });
  expect(a.messages).toEqual(fromB);
  expect(b.messages).toEqual(fromA);
  // the code's nameplate was released by both, the mailbox closed by both, happily
  const nameplate = a.code!.split('-')[0]!;
  expect(net.server.nameplates.has(nameplate)).toBe(false);
  // (a nameplate allocated for A whose answer was lost stays behind, as on the real server)
  for (const [id, mb] of net.server.mailboxes) {
    expect({ id, messages: mb.messages.length, open: [...mb.open] }).toEqual({ id, messages: 0, open: [a.side] });
    expect(net.server.allocatedMailboxes).toContain(id);
  }
  expect(net.server.moods.filter((m) => m.side === a.side).map((m) => m.mood)).toContain('happy');
  expect(net.server.moods.filter((m) => m.side === b.side).map((m) => m.mood)).toContain('happy');
  expect(net.server.moods.every((m) => m.mood === 'happy')).toBe(true);
  for (const p of [a, b]) {
    const s = p.session.snapshot();
    expect(s.boss).toBe('closed');
    expect(s.terminator).toBe('stopped');
    expect(s.rendezvous).toBe('stopped');
    expect(s.nameplate).toMatch(/^released\./);
    expect(s.mailbox).toMatch(/^closed\./);
    expect(p.conn).toBeUndefined();
    expect(p.timerPending).toBe(false);
  }
}
