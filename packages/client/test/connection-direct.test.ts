// direct-v1: the direct-TCP head start before WebRTC — the connector on the in-memory network and signalling pair, and w.connect() between two wormholes on an in-memory mailbox.
import { describe, expect, it } from 'vitest';
import { isWormholeError, type Connection } from '../src/index.js';
import { directTcp, type ConnectorContext, type Signalling } from '../src/testing.js';
import type { TcpDialer } from '../src/transit/types.js';
import { fromUtf8, utf8 } from '@burrow/protocol';
import { MemoryNet } from './support/memory-transfer.js';
import { signallingPair } from './connection-compliance.js';
import { FakePeerConnection } from './support/fake-webrtc.js';
import { createWormhole, type RTCPeerConnectionConstructor, type Wormhole, type WormholeOptions } from '../src/index.js';
import { MemoryMailbox } from '../src/testing.js';

/** Two wormholes on an in-memory mailbox, with the given createWormhole options each. */
async function wormholes(a: Partial<WormholeOptions>, b: Partial<WormholeOptions>): Promise<[Wormhole, Wormhole]> {
  const server = new MemoryMailbox();
  const base = { mailbox: server.url, transport: server.transport };
  const wa = await createWormhole({ ...base, ...a });
  const wb = await createWormhole({ ...base, ...b });
  wb.setCode(await wa.allocateCode());
  return [wa, wb];
}

const key = new Uint8Array(32).fill(9);
const ctx = (role: 'leader' | 'follower', signalling: Signalling): ConnectorContext => ({ role, signalling, deriveKey: async () => key });

/** What one side sent through the signalling, recorded on its way. */
function recorded(s: Signalling): { s: Signalling; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  return {
    sent,
    s: {
      send: (body) => {
        sent.push(body);
        s.send(body);
      },
      next: (o) => s.next(o),
    },
  };
}

async function echoOnce(a: Connection, b: Connection): Promise<string> {
  const accepted = b.incoming[Symbol.asyncIterator]().next();
  const out = await a.openStream();
  const w = out.writable.getWriter();
  await w.write(utf8('over direct TCP'));
  await w.close();
  const inbound = (await accepted).value!;
  const r = await inbound.readable.getReader().read();
  return fromUtf8(r.value!);
}

describe('direct-v1 (direct TCP before WebRTC)', () => {
  it('both listen: the pair connects directly, nothing but the hints is said, and the signalling stays in step', async () => {
    const net = new MemoryNet();
    const [sa, sb] = signallingPair();
    const leader = recorded(sa);
    const follower = recorded(sb);
    const [a, b] = await Promise.all([
      directTcp(ctx('leader', leader.s), { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.1']) }),
      directTcp(ctx('follower', follower.s), { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.2']) }),
    ]);
    expect(a?.kind).toBe('direct');
    expect(b?.kind).toBe('direct');
    expect(await echoOnce(a!, b!)).toBe('over direct TCP');
    expect(leader.sent.map((m) => Object.keys(m))).toEqual([['transit']]);
    expect(follower.sent.map((m) => Object.keys(m))).toEqual([['transit']]);
    // The follower's wait for a give-up was withdrawn: the next message goes to the next reader.
    sa.send({ after: 1 });
    expect(await sb.next()).toEqual({ after: 1 });
    await a!.close();
    await b!.close();
  });

  it('nothing to dial: the leader gives up at once, the follower reads it, both go on (undefined)', async () => {
    const net = new MemoryNet();
    const [sa, sb] = signallingPair();
    const leader = recorded(sa);
    const [a, b] = await Promise.all([
      directTcp(ctx('leader', leader.s), { dialers: { tcp: net.tcp } }),
      directTcp(ctx('follower', sb), { dialers: { tcp: net.tcp } }),
    ]);
    expect(a).toBeUndefined();
    expect(b).toBeUndefined();
    expect(typeof leader.sent[1]?.['giveup']).toBe('string');
    sb.send({ webrtc: 'next' });
    expect(await sa.next()).toEqual({ webrtc: 'next' });
  });

  it('a path that never answers: the leader gives up after its head start, and only then does the follower', async () => {
    const [sa, sb] = signallingPair();
    // Every dial hangs until it is called off (a SYN into a network that drops it).
    const hang: TcpDialer = (_host, _port, options) =>
      new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('called off')), { once: true }));
    const net = new MemoryNet();
    const started = Date.now();
    const [a, b] = await Promise.all([
      directTcp(ctx('leader', sa), { dialers: { tcp: hang }, headStartMs: 150 }),
      directTcp(ctx('follower', sb), { dialers: { tcp: hang }, listen: net.listen(['192.0.2.7']), headStartMs: 150 }),
    ]);
    expect(a).toBeUndefined();
    expect(b).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('a follower that hears something else than a give-up fails with RemoteProtocol; an abort stops it', async () => {
    const [sa, sb] = signallingPair();
    const follower = directTcp(ctx('follower', sb), {});
    sa.send({ transit: { 'abilities-v1': [], 'hints-v1': [] } });
    sa.send({ surprise: true });
    const err = await follower.catch((e: unknown) => e);
    expect(isWormholeError(err, 'RemoteProtocol'), String(err)).toBe(true);

    const [, sd] = signallingPair();
    const ctrl = new AbortController();
    const pending = directTcp({ ...ctx('follower', sd), signal: ctrl.signal }, {});
    ctrl.abort(new Error('stop here'));
    expect(await pending.catch((e: unknown) => e)).toMatchObject({ message: 'stop here' });
  });

  describe('through w.connect()', () => {
    const RTC = FakePeerConnection as unknown as RTCPeerConnectionConstructor;

    it('both pass directTcp (and have WebRTC): connect() goes direct and never starts WebRTC', async () => {
      FakePeerConnection.last = undefined;
      const net = new MemoryNet();
      const [a, b] = await wormholes({ directTcp, RTCPeerConnection: RTC }, { directTcp, RTCPeerConnection: RTC });
      const [ca, cb] = await Promise.all([
        a.connect({ relay: { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.1']) } }),
        b.connect({ relay: { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.2']) } }),
      ]);
      expect([ca.kind, cb.kind]).toEqual(['direct', 'direct']);
      expect(await echoOnce(ca, cb)).toBe('over direct TCP');
      expect(FakePeerConnection.last).toBeUndefined();
      await Promise.all([ca.close(), cb.close()]);
      await Promise.all([a.close(), b.close()]);
    });

    it('only one side passes directTcp: neither runs direct-v1 (the wormhole stays in step) and mux-v1 connects', async () => {
      const net = new MemoryNet();
      const [a, b] = await wormholes({ directTcp, RTCPeerConnection: null }, { RTCPeerConnection: null });
      const [ca, cb] = await Promise.all([
        a.connect({ relay: { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.1']) } }),
        b.connect({ relay: { dialers: { tcp: net.tcp }, listen: net.listen(['10.0.0.2']) } }),
      ]);
      expect(await echoOnce(ca, cb)).toBe('over direct TCP');
      await Promise.all([ca.close(), cb.close()]);
      await Promise.all([a.close(), b.close()]);
    });
  });
});
