/**
 * Two Sessions talking through a tiny in-test mailbox server. Everything is
 * synchronous and deterministic: a FIFO "network" carries inputs to the
 * sessions and client messages to the server, timers fire when the network is
 * idle, and a connection can be dropped between any two deliveries.
 *
 * Frames cross the edge as JSON (encodeClientMessage / parseServerMessage),
 * so the sessions see exactly what a driver would feed them.
 */
import { describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from '../src/bytes.js';
import { WormholeError } from '../src/errors.js';
import { encodeClientMessage, parseServerMessage } from '../src/messages.js';
import { Session, type SessionInput } from '../src/machines/session.js';
import type { IoEffect } from '../src/machines/types.js';
import { seededRandom } from '../../testkit/src/random.js';

const APPID = 'example.com/burrow-session-test';


// ---------------------------------------------------------------- the harness

interface Peer {
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

/** The mailbox server, reduced to what these tests need (same answers as the real one). */
class TinyServer {
  readonly nameplates = new Map<string, { mailbox: string; claimed: Set<string> }>();
  readonly mailboxes = new Map<string, { messages: { side: string; phase: string; body: string }[]; open: Set<string>; listeners: Set<string> }>();
  readonly moods: { side: string; mood: unknown }[] = [];
  readonly conns = new Map<string, ServerConn>();
  /** Mailboxes of allocated nameplates (only leftovers are checked against this). */
  readonly allocatedMailboxes: string[] = [];
  readonly received: { side: string | undefined; message: Record<string, unknown> }[] = [];
  #next = 1;

  constructor(readonly net: Network) {}

  connKey(peer: Peer, gen: number): string {
    return `${peer.name}/${gen}`;
  }

  forget(peer: Peer, gen: number): void {
    const key = this.connKey(peer, gen);
    for (const mb of this.mailboxes.values()) mb.listeners.delete(key);
    this.conns.delete(key);
  }

  handle(peer: Peer, gen: number, frame: string): void {
    const key = this.connKey(peer, gen);
    const c = this.conns.get(key) ?? {};
    this.conns.set(key, c);
    const m = JSON.parse(frame) as Record<string, unknown>;
    this.received.push({ side: c.side, message: m });
    const reply = (msg: Record<string, unknown>) => this.net.toPeer(peer, gen, msg);
    reply({ type: 'ack', id: m['id'] });
    switch (m['type']) {
      case 'bind':
        c.side = m['side'] as string;
        return;
      case 'allocate': {
        let n = 1;
        while (this.nameplates.has(String(n))) n++;
        this.allocatedMailboxes.push(this.#claim(String(n), c.side!));
        reply({ type: 'allocated', nameplate: String(n) });
        return;
      }
      case 'claim': {
        const id = m['nameplate'] as string;
        c.nameplate = id;
        reply({ type: 'claimed', mailbox: this.#claim(id, c.side!) });
        return;
      }
      case 'release': {
        const id = (m['nameplate'] as string | undefined) ?? c.nameplate!;
        const np = this.nameplates.get(id);
        np?.claimed.delete(c.side!);
        if (np && np.claimed.size === 0) this.nameplates.delete(id);
        reply({ type: 'released' });
        return;
      }
      case 'open': {
        const id = m['mailbox'] as string;
        const mb = this.#mailbox(id);
        mb.open.add(c.side!);
        mb.listeners.add(key);
        c.mailbox = id;
        for (const sm of mb.messages) reply({ type: 'message', ...sm, id: null });
        return;
      }
      case 'add': {
        const mb = this.mailboxes.get(c.mailbox!)!;
        const sm = { side: c.side!, phase: m['phase'] as string, body: m['body'] as string };
        mb.messages.push(sm);
        for (const l of mb.listeners) {
          const [name, g] = l.split('/');
          const target = this.net.peers.find((p) => p.name === name)!;
          this.net.toPeer(target, Number(g), { type: 'message', ...sm, id: m['id'] });
        }
        this.net.afterAdd?.(peer, sm.phase);
        return;
      }
      case 'close': {
        const id = (m['mailbox'] as string | undefined) ?? c.mailbox!;
        const mb = this.#mailbox(id);
        mb.listeners.delete(key);
        if (mb.open.delete(c.side!) || !this.moods.some((x) => x.side === c.side)) this.moods.push({ side: c.side!, mood: m['mood'] });
        if (mb.open.size === 0) this.mailboxes.delete(id);
        reply({ type: 'closed' });
        return;
      }
      default:
        reply({ type: 'error', error: 'unknown type', orig: m });
    }
  }

  #claim(id: string, side: string): string {
    let np = this.nameplates.get(id);
    if (!np) {
      np = { mailbox: `mb${this.#next++}`, claimed: new Set() };
      this.nameplates.set(id, np);
    }
    np.claimed.add(side);
    this.#mailbox(np.mailbox).open.add(side);
    return np.mailbox;
  }

  #mailbox(id: string) {
    let mb = this.mailboxes.get(id);
    if (!mb) {
      mb = { messages: [], open: new Set(), listeners: new Set() };
      this.mailboxes.set(id, mb);
    }
    return mb;
  }
}

class Network {
  readonly queue: Item[] = [];
  readonly peers: Peer[] = [];
  readonly server = new TinyServer(this);
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

interface ExchangeOptions {
  readonly codeB?: (code: string) => string;
  readonly fromA?: readonly string[];
  readonly fromB?: readonly string[];
  readonly drop?: { readonly at: number; readonly who: 'A' | 'B' | 'both' };
  readonly setup?: (net: Network, a: Peer, b: Peer) => void;
}

/** A allocates a code, B types it; both send their messages and close once everything arrived. */
function exchange(options: ExchangeOptions = {}) {
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

function expectHappy({ net, a, b, fromA, fromB }: ReturnType<typeof exchange>) {
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

describe('two sessions through a mailbox server', () => {
  it('complete a full exchange: code, pake, key, version, messages in order, happy close', () => {
    const run = exchange();
    expectHappy(run);
    // one connection each, and the wire looks like the protocol
    expect(run.a.connects).toBe(1);
    expect(run.b.connects).toBe(1);
    const typesOf = (side: string) => run.net.server.received.filter((r) => r.side === side || (r.side === undefined && r.message['side'] === side)).map((r) => r.message['type']);
    expect(typesOf(run.a.side).slice(0, 4)).toEqual(['bind', 'allocate', 'claim', 'open']);
    expect(typesOf(run.b.side).slice(0, 3)).toEqual(['bind', 'claim', 'open']);
    for (const side of [run.a.side, run.b.side]) {
      const types = typesOf(side);
      expect(types.filter((t) => t === 'release')).toHaveLength(1);
      expect(types.filter((t) => t === 'close')).toHaveLength(1);
      expect(types.at(-1)).toBe('close');
    }
    const adds = (side: string) =>
      run.net.server.received.filter((r) => r.side === side && r.message['type'] === 'add').map((r) => r.message['phase']);
    expect(adds(run.a.side)).toEqual(['pake', 'version', '0', '1', '2']);
    expect(adds(run.b.side)).toEqual(['pake', 'version', '0', '1']);
  });

  it('is deterministic: the same seeds give the same code and key', () => {
    const one = exchange();
    const two = exchange();
    expect(two.a.code).toBe(one.a.code);
    expect(two.a.key).toBe(one.a.key);
  });

  it('many messages each way arrive in order, none twice', () => {
    const fromA = Array.from({ length: 40 }, (_, i) => `a${i}`);
    const fromB = Array.from({ length: 25 }, (_, i) => `b${i}`);
    expectHappy(exchange({ fromA, fromB }));
  });

  it('a wrong code: both sides end with WrongPassword and close scary; nothing is delivered', () => {
    const { net, a, b } = exchange({ codeB: (code) => `${code.split('-')[0]}-wrong-guess` });
    for (const p of [a, b]) {
      expect(p.result).toBeInstanceOf(WormholeError);
      expect((p.result as WormholeError).code).toBe('WrongPassword');
      expect(p.messages).toEqual([]);
      expect(p.versions).toBeUndefined();
      expect(p.key).toBeDefined();
      expect(p.session.snapshot().rendezvous).toBe('stopped');
    }
    expect(a.key).not.toBe(b.key);
    expect(net.server.moods.map((m) => m.mood)).toEqual(['scary', 'scary']);
    expect(net.server.mailboxes.size).toBe(0);
  });

  it('an add whose echo is lost with the connection is resent once, and delivered once', () => {
    let dropped = false;
    const run = exchange({
      setup: (net, a) => {
        net.afterAdd = (peer, phase) => {
          if (!dropped && peer === a && phase === '1') {
            dropped = true;
            net.drop(a);
          }
        };
      },
    });
    expect(dropped).toBe(true);
    expectHappy(run);
    expect(run.a.connects).toBe(2);
    // the server holds phase '1' from A twice; B still saw it once
    const ones = run.net.server.received.filter((r) => r.side === run.a.side && r.message['type'] === 'add' && r.message['phase'] === '1');
    expect(ones).toHaveLength(2);
  });

  it('a reconnect at any point of the exchange loses nothing and duplicates nothing', () => {
    const total = exchange().net.deliveries;
    expect(total).toBeGreaterThan(40);
    let exercised = 0;
    for (const who of ['A', 'B', 'both'] as const) {
      for (let at = 1; at <= total; at++) {
        const run = exchange({ drop: { at, who } });
        if (run.dropped.length === 0) continue;
        exercised++;
        try {
          expectHappy(run);
        } catch (err) {
          throw new Error(`drop ${who} before delivery ${at}: ${(err as Error).message}`, { cause: err });
        }
        for (const p of [run.a, run.b]) expect(p.connects).toBe(run.dropped.includes(p.name) ? 2 : 1);
      }
    }
    expect(exercised).toBeGreaterThan(total);
  });

  it('two reconnects in a row (the first retry also fails) still complete', () => {
    let drops = 0;
    const run = exchange({
      setup: (net, a) => {
        net.afterAdd = (peer, phase) => {
          if (peer === a && phase === 'version' && drops === 0) {
            drops++;
            net.drop(a);
          }
        };
        net.beforeDelivery = () => {
          // drop the reconnection as soon as it is made, once
          if (drops === 1 && a.conn !== undefined && a.connects === 2) {
            drops++;
            net.drop(a);
          }
        };
      },
    });
    expect(drops).toBe(2);
    expect(run.a.connects).toBe(3);
    expectHappy(run);
  });
});

describe('Session', () => {
  it('a first connection that fails ends the session with Connection', () => {
    const s = new Session({ side: 'a0a0a0a0a0', appid: APPID, random: seededRandom(1), appVersions: {} });
    expect(s.handle({ type: 'start' })).toEqual([{ type: 'connect' }]);
    const effects = s.handle({ type: 'connection_lost' });
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: 'closed', result: { code: 'Connection' } });
    expect(s.snapshot().boss).toBe('closed');
  });

  it('a welcome with an error closes with Welcome (mood unwelcome)', () => {
    const net = new Network();
    const a = net.addPeer('A', 'a0a0a0a0a0', 1);
    net.input(a, { type: 'start' });
    net.run();
    net.input(a, { type: 'server_message', message: parseServerMessage('{"type":"welcome","welcome":{"error":"go away"}}') });
    net.run();
    expect(a.result).toBeInstanceOf(WormholeError);
    expect((a.result as WormholeError).code).toBe('Welcome');
    expect(a.session.snapshot().rendezvous).toBe('stopped');
  });

  it('a crowded error from the server: Crowded, and the nameplate is still released and the mailbox closed', () => {
    const net = new Network();
    const a = net.addPeer('A', 'a0a0a0a0a0', 1);
    net.input(a, { type: 'start' });
    net.input(a, { type: 'set_code', code: '9-purple-sausages' });
    net.run();
    net.input(a, { type: 'server_message', message: parseServerMessage('{"type":"error","error":"crowded","orig":{}}') });
    net.run();
    expect((a.result as WormholeError).code).toBe('Crowded');
    const types = net.server.received.map((r) => r.message['type']);
    expect(types.slice(-2).sort()).toEqual(['close', 'release']);
    expect(net.server.moods).toEqual([{ side: a.side, mood: 'errory' }]);
    expect(a.session.snapshot().rendezvous).toBe('stopped');
  });

  it('reports each step to the trace hook', () => {
    const entries: string[] = [];
    const s = new Session({ side: 'a0a0a0a0a0', appid: APPID, random: seededRandom(1), appVersions: {} }, { trace: (e) => entries.push(`${e.machine}:${e.from}->${e.to}:${e.event}:${e.handled}`) });
    s.handle({ type: 'start' });
    expect(entries).toEqual(['rendezvous:idle->connecting:start:true']);
  });
});
