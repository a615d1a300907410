// TransitConnector over the in-memory network of support/memory-transfer.ts.
import { describe, expect, it } from 'vitest';
import { isWormholeError } from '../src/index.js';
import { TransitConnector } from '../src/testing.js';
import { fromUtf8, transitKey, utf8 } from '@burrow/protocol';
import { MemoryNet } from './support/memory-transfer.js';

describe('TransitConnector', () => {
  const key = transitKey(new Uint8Array(32).fill(3));

  it('first handshake wins; the sender tells the other candidate nevermind', async () => {
    const net = new MemoryNet();
    const receiver = await TransitConnector.create({ role: 'receiver', key, listen: net.listen(['10.0.0.1', '10.0.0.9']), dialers: {} });
    const sender = await TransitConnector.create({ role: 'sender', key, dialers: { tcp: net.tcp } });
    sender.addPeerHints({ abilities: [], direct: [{ hostname: '10.0.0.1', port: 40000, priority: 0 }, { hostname: '10.0.0.9', port: 40000, priority: 0 }], relays: [] });
    const [s, r] = await Promise.all([sender.connect(), receiver.connect()]);
    expect(s.kind).toBe('direct');
    const said = net.dialed.map((d) => fromUtf8(Uint8Array.from(d.written.flatMap((c) => [...c]))).split('\n').filter(Boolean).slice(-1)[0]);
    expect(said.sort()).toEqual(['go', 'nevermind']);
    // Records flow on the winner.
    const w = s.writable.getWriter();
    await w.write(utf8('ping'));
    const got = await r.readable.getReader().read();
    expect(fromUtf8(got.value!)).toBe('ping');
    s.close();
    r.close();
    sender.close();
    receiver.close();
  });

  it('readRecords() hands out the records of each read in order, then null at the end; it does not mix with readable', async () => {
    const pair = async () => {
      const net = new MemoryNet();
      const receiver = await TransitConnector.create({ role: 'receiver', key, listen: net.listen(['10.0.0.1']), dialers: {} });
      const sender = await TransitConnector.create({ role: 'sender', key, dialers: { tcp: net.tcp } });
      sender.addPeerHints({ abilities: [], direct: [{ hostname: '10.0.0.1', port: 40000, priority: 0 }], relays: [] });
      const [s, r] = await Promise.all([sender.connect(), receiver.connect()]);
      return { s, r, done: () => [s, r, sender, receiver].forEach((c) => c.close()) };
    };
    const { s, r, done } = await pair();
    const w = s.writable.getWriter();
    const sent = ['one', 'two', 'three', 'four'];
    for (const m of sent) await w.write(utf8(m));
    await w.close();
    const got: string[] = [];
    let batch: Uint8Array[] | null;
    while ((batch = await r.readRecords()) !== null) {
      expect(batch.length).toBeGreaterThan(0);
      got.push(...batch.map(fromUtf8));
    }
    expect(got).toEqual(sent);
    // Once records went out here, the stream refuses to hand out more.
    const mixed = await r.readable.getReader().read().catch((e: unknown) => e);
    expect(isWormholeError(mixed, 'Usage'), String(mixed)).toBe(true);
    done();

    // And the other way round: a locked readable keeps its records.
    const other = await pair();
    const reader = other.r.readable.getReader();
    const first = reader.read();
    await other.s.writable.getWriter().write(utf8('x'));
    expect(fromUtf8((await first).value!)).toBe('x');
    const refused = await other.r.readRecords().catch((e: unknown) => e);
    expect(isWormholeError(refused, 'Usage'), String(refused)).toBe(true);
    other.done();
  });

  it('nothing to try and nobody listening: a Connection error at once', async () => {
    const c = await TransitConnector.create({ role: 'sender', key, dialers: { tcp: new MemoryNet().tcp } });
    c.addPeerHints({ abilities: [], direct: [{ hostname: 'nowhere', port: 1, priority: 0 }], relays: [] });
    const err = await c.connect().catch((e: unknown) => e);
    expect(isWormholeError(err, 'Connection'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('a listener that nobody dials: Timeout after timeoutMs', async () => {
    const c = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen(), timeoutMs: 50 });
    const err = await c.connect().catch((e: unknown) => e);
    expect(isWormholeError(err, 'Timeout'), String(err)).toBe(true);
  });

  it('connect() honours an AbortSignal', async () => {
    const c = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen() });
    const err = await c.connect({ signal: AbortSignal.timeout(20) }).catch((e: unknown) => e);
    expect(isWormholeError(err, 'Timeout'), String(err)).toBe(true);
    const c2 = await TransitConnector.create({ role: 'receiver', key, listen: new MemoryNet().listen() });
    const ctrl = new AbortController();
    const p = c2.connect({ signal: ctrl.signal });
    ctrl.abort();
    expect(isWormholeError(await p.catch((e: unknown) => e), 'Aborted')).toBe(true);
  });
});
