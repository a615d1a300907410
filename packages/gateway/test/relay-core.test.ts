// Token matching and the relay core with fake endpoints (no sockets):
// behaviour of wormhole_transit_relay 0.2.1 plus our timeouts, caps and
// backpressure. The handshake grammar is tested in @burrow/protocol.
import { describe, expect, it } from 'vitest';
import { TokenMatcher, TransitRelay, type RelayEndpoint, type RelayEndpointEvents } from '../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const TOKEN = 'ab'.repeat(32);
const sided = (side: string, token = TOKEN): string => `please relay ${token} for side ${side}\n`;

describe('token matching', () => {
  it('matches different sides, never the same side, unsided with anything', () => {
    const m = new TokenMatcher<string>();
    expect(m.offer('t', 'side-a', 'a1')).toBeUndefined();
    expect(m.offer('t', 'side-a', 'a2')).toBeUndefined();
    expect(m.connections).toBe(2);
    expect(m.offer('t', 'side-b', 'b1')).toEqual({ buddy: 'a1', redundant: ['a2'] });
    expect(m.tokens).toBe(0);
    expect(m.offer('u', null, 'x')).toBeUndefined();
    expect(m.offer('u', null, 'y')).toEqual({ buddy: 'x', redundant: [] });
    expect(m.offer('v', 'side-a', 'p')).toBeUndefined();
    expect(m.offer('v', null, 'q')).toEqual({ buddy: 'p', redundant: [] });
  });

  it('forgets removed connections', () => {
    const m = new TokenMatcher<string>();
    m.offer('t', 's1', 'a');
    m.remove('t', 'a');
    expect({ tokens: m.tokens, connections: m.connections }).toEqual({ tokens: 0, connections: 0 });
    expect(m.offer('t', 's2', 'b')).toBeUndefined();
  });
});

/** An endpoint that records what the relay does to it. */
class FakeEndpoint implements RelayEndpoint {
  readonly written: Uint8Array[] = [];
  queued = 0;
  paused = false;
  ended = false;
  destroyed = false;
  events!: RelayEndpointEvents;
  constructor(
    readonly address = '192.0.2.7',
    readonly kind = 'fake',
  ) {}
  write(data: Uint8Array): void {
    this.written.push(data);
    this.queued += data.length;
  }
  buffered(): number {
    return this.queued;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  text(): string {
    return this.written.map(dec).join('');
  }
  /** The network took everything queued. */
  flushed(): void {
    this.queued = 0;
    this.events.drain();
  }
}

function relayWith(limits: ConstructorParameters<typeof TransitRelay>[0] = {}) {
  let now = 0;
  const logs: string[] = [];
  const log = (e: string) => logs.push(e);
  const relay = new TransitRelay({ now: () => now, logger: { debug: log, info: log, warn: log }, ...limits });
  const connect = (address?: string): FakeEndpoint => {
    const ep = new FakeEndpoint(address);
    ep.events = relay.attach(ep);
    return ep;
  };
  return { relay, connect, logs, advance: (ms: number) => (now += ms) };
}

describe('relay core', () => {
  it('glues two sides of a token, answers "ok\\n" to both and copies bytes both ways', () => {
    const { relay, connect } = relayWith();
    const a = connect();
    const b = connect();
    a.events.data(enc(sided('aaaaaaaaaaaaaaaa').slice(0, 50)));
    a.events.data(enc(sided('aaaaaaaaaaaaaaaa')).slice(50));
    expect(a.text()).toBe('');
    expect(relay.stats()).toMatchObject({ waiting: 1, tokens: 1 });
    b.events.data(enc(sided('bbbbbbbbbbbbbbbb')));
    expect(a.text()).toBe('ok\n');
    expect(b.text()).toBe('ok\n');
    expect(relay.stats()).toMatchObject({ waiting: 0, pairs: 1 });
    a.events.data(enc('transit sender ready'));
    b.events.data(enc('transit receiver ready'));
    expect(b.text()).toBe('ok\ntransit sender ready');
    expect(a.text()).toBe('ok\ntransit receiver ready');
    // One side leaves: the other is flushed and closed.
    a.events.closed();
    expect(b.ended).toBe(true);
    b.events.closed();
    expect(relay.stats()).toMatchObject({ connections: 0, pairs: 0, addresses: 0, bytes: 42 });
  });

  it('does not glue two connections of the same side; a spare one is closed as redundant', () => {
    const { relay, connect } = relayWith();
    const a1 = connect();
    const a2 = connect();
    const b = connect();
    a1.events.data(enc(sided('aaaaaaaaaaaaaaaa')));
    a2.events.data(enc(sided('aaaaaaaaaaaaaaaa')));
    expect(relay.stats()).toMatchObject({ waiting: 2, pairs: 0 });
    b.events.data(enc(sided('bbbbbbbbbbbbbbbb')));
    expect(a1.text()).toBe('ok\n');
    expect(a2.text()).toBe('');
    expect(a2.ended).toBe(true);
  });

  it('answers "bad handshake\\n" and "impatient\\n", then closes', () => {
    const { relay, connect, logs } = relayWith();
    const bad = connect();
    bad.events.data(enc('hello relay\n'));
    expect(bad.text()).toBe('bad handshake\n');
    expect(bad.ended).toBe(true);
    const early = connect();
    early.events.data(enc(`${sided('aaaaaaaaaaaaaaaa')}go\n`));
    expect(early.text()).toBe('impatient\n');
    const waiting = connect();
    waiting.events.data(enc(sided('cccccccccccccccc', 'cd'.repeat(32))));
    waiting.events.data(enc('too soon'));
    expect(waiting.text()).toBe('impatient\n');
    expect(relay.stats()).toMatchObject({ waiting: 0 });
    expect(logs).toContain('relay.bad-handshake');
    expect(logs).toContain('relay.impatient');
  });

  it('times out a silent connection, a lonely token and an idle pair', () => {
    const { relay, connect, advance, logs } = relayWith({ limits: { handshakeTimeoutMs: 1_000, lonelyTimeoutMs: 5_000, idleTimeoutMs: 20_000 } });
    const silent = connect();
    const lonely = connect();
    lonely.events.data(enc(sided('aaaaaaaaaaaaaaaa')));
    advance(1_000);
    relay.sweep();
    expect(silent.destroyed).toBe(true);
    expect(lonely.destroyed).toBe(false);
    advance(4_000);
    relay.sweep();
    expect(lonely.destroyed).toBe(true);
    expect(relay.stats().waiting).toBe(0);
    expect(logs).toEqual(expect.arrayContaining(['relay.handshake-timeout', 'relay.lonely-timeout']));

    const a = connect();
    const b = connect();
    a.events.data(enc(sided('aaaaaaaaaaaaaaaa', 'ef'.repeat(32))));
    b.events.data(enc(sided('bbbbbbbbbbbbbbbb', 'ef'.repeat(32))));
    advance(15_000);
    a.events.data(enc('still here'));
    advance(15_000);
    relay.sweep();
    expect(a.destroyed || b.destroyed).toBe(false);
    advance(5_000);
    relay.sweep();
    expect(a.destroyed && b.destroyed).toBe(true);
  });

  it('pauses a sender whose buddy has too much queued, resumes it at the low watermark', () => {
    const { connect } = relayWith({ limits: { highWaterMark: 1_000, lowWaterMark: 100 } });
    const a = connect();
    const b = connect();
    a.events.data(enc(sided('aaaaaaaaaaaaaaaa')));
    b.events.data(enc(sided('bbbbbbbbbbbbbbbb')));
    b.flushed();
    a.events.data(new Uint8Array(600));
    expect(a.paused).toBe(false);
    a.events.data(new Uint8Array(600));
    expect(a.paused).toBe(true);
    // A slow reader on one pair does not pause anyone else.
    b.queued = 500;
    b.events.drain();
    expect(a.paused).toBe(true);
    b.flushed();
    expect(a.paused).toBe(false);
  });

  it('enforces connection caps per address and in total', () => {
    const { relay, connect } = relayWith({ limits: { maxConnections: 3, maxConnectionsPerAddress: 2 } });
    connect('10.0.0.1');
    connect('10.0.0.1');
    expect(relay.admit('10.0.0.1')).toEqual({ ok: false, reason: 'address-full', limit: 'connections.address' });
    expect(relay.admit('10.0.0.2')).toEqual({ ok: true });
    connect('10.0.0.2');
    expect(relay.admit('10.0.0.3')).toEqual({ ok: false, reason: 'server-full', limit: 'connections.total' });
  });

  it('caps connections per prefix (IPv4 /24, IPv6 /48), other prefixes unaffected', () => {
    const { relay, connect } = relayWith({ limits: { maxConnectionsPerAddress: 2, maxConnectionsPerPrefix: 3 } });
    connect('10.0.0.1');
    connect('10.0.0.2');
    connect('10.0.0.3');
    expect(relay.admit('10.0.0.4')).toEqual({ ok: false, reason: 'prefix-full', limit: 'connections.prefix' });
    expect(relay.admit('10.0.1.4')).toEqual({ ok: true });
    // IPv6: one /64 is one "address"; /48 is the prefix.
    connect('2001:db8:1:1::1');
    connect('2001:db8:1:1::2');
    expect(relay.admit('2001:db8:1:1::3')).toMatchObject({ ok: false, limit: 'connections.address' });
    connect('2001:db8:1:2::1');
    expect(relay.admit('2001:db8:1:3::1')).toMatchObject({ ok: false, limit: 'connections.prefix' });
    expect(relay.admit('2001:db8:2::1')).toEqual({ ok: true });
  });
});
