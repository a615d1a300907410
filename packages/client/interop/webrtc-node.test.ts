// webrtc-v1 on Node (node-datachannel's RTCPeerConnection polyfill), on
// loopback in a private netns: the connection compliance suite, PAKE-bound
// DTLS against a man in the middle, the agreed fallback, and w.connect()
// end to end through the Debian mailbox, with the Transit + mux-v1
// fallback through the Debian transit relay.
import { bestEffort } from '@burrow/protocol';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, startMailboxServer, startTransitRelay, type MailboxServer, type TransitRelay } from '@burrow/testkit';
import {
  createWormhole,
  isWormholeError,
  type Connection,
  type RTCPeerConnectionConstructor,
  type WebSocketConstructor,
  type Wormhole,
} from '@burrow/client';
import { transitMuxConnector, webrtcConnector, type Signalling } from '@burrow/client/testing';
import { tcpDialer, tcpListen } from '@burrow/client/node';
import { sdpWithoutCandidates } from '@burrow/protocol/webrtc';
import { connectionCompliance, readAll, signallingPair, writeRandom } from '../test/connection-compliance.js';

const RTC = NdcPeerConnection as unknown as RTCPeerConnectionConstructor;
const LOOPBACK = { bindAddress: '127.0.0.1' } as const;
const key = new Uint8Array(32).fill(3);
/** Candidates go as trickle messages only (libdatachannel can trip over candidates inside a remote description). */
const noCandidates = sdpWithoutCandidates;
const deriveKey = async () => key;

async function webrtcPair(options: Parameters<typeof webrtcConnector>[0] = {}, signalling = signallingPair()): Promise<[Connection, Connection]> {
  const c = webrtcConnector({ RTCPeerConnection: RTC, rtcConfiguration: LOOPBACK, ...options });
  const [sa, sb] = signalling;
  return (await Promise.all([
    c.connect({ role: 'leader', signalling: sa, deriveKey }),
    c.connect({ role: 'follower', signalling: sb, deriveKey }),
  ])) as [Connection, Connection];
}

let sharedRelay: TransitRelay | undefined;
beforeAll(async () => {
  assertPrivateNetwork();
  sharedRelay = await startTransitRelay();
});
afterAll(cleanup);

connectionCompliance('webrtc-v1 on node-datachannel', () => webrtcPair(), { kind: 'webrtc', streamBytes: 4 * 1024 * 1024 });

connectionCompliance(
  'mux-v1 over Transit through the Debian relay',
  async () => {
    const c = transitMuxConnector({ relays: [sharedRelay!.hint], dialers: { tcp: tcpDialer() } });
    const [sa, sb] = signallingPair();
    return (await Promise.all([
      c.connect({ role: 'leader', signalling: sa, deriveKey }),
      c.connect({ role: 'follower', signalling: sb, deriveKey }),
    ])) as [Connection, Connection];
  },
  { kind: 'relay' },
);

describe('webrtc-v1 on node-datachannel: binding and fallback', () => {
  it('fails closed with Tampered when a man in the middle terminates DTLS on both sides', async () => {
    // The attacker sees the signalling in clear (as if the wormhole were broken) and
    // answers each side with its own peer connection, forwarding the confirmation MACs.
    const [sa, toA] = signallingPair();
    const [sb, toB] = signallingPair();
    const mitm = async () => {
      const toLeader = new RTC({ ...LOOPBACK } as RTCConfiguration); // plays the follower to A
      const toFollower = new RTC({ ...LOOPBACK } as RTCConfiguration); // plays the leader to B
      const relayCandidates = (pc: RTCPeerConnection, out: Signalling) =>
        pc.addEventListener('icecandidate', (e) => {
          const c = (e as RTCPeerConnectionIceEvent).candidate;
          if (c?.candidate) out.send({ candidate: { candidate: c.candidate.replace(/^a=/, ''), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
        });
      relayCandidates(toLeader, toA);
      relayCandidates(toFollower, toB);
      const ctlB = toFollower.createDataChannel('burrow/control');
      const offerB = await toFollower.createOffer();
      await toFollower.setLocalDescription(offerB);
      toB.send({ description: { type: 'offer', sdp: noCandidates(toFollower.localDescription!.sdp) } });
      // Forward control messages both ways, holding them until the other leg is open.
      let ctlA: RTCDataChannel | undefined;
      const held: { toA: string[]; toB: string[] } = { toA: [], toB: [] };
      const flush = () => {
        if (ctlA?.readyState === 'open') for (const m of held.toA.splice(0)) ctlA.send(m);
        if (ctlB.readyState === 'open') for (const m of held.toB.splice(0)) ctlB.send(m);
      };
      toLeader.addEventListener('datachannel', (e) => {
        ctlA = (e as RTCDataChannelEvent).channel;
        ctlA.addEventListener('open', flush);
        ctlA.addEventListener('message', (m) => (held.toB.push((m as MessageEvent).data as string), flush()));
        flush();
      });
      ctlB.addEventListener('open', flush);
      ctlB.addEventListener('message', (m) => (held.toA.push((m as MessageEvent).data as string), flush()));
      const pump = async (from: Signalling, pc: RTCPeerConnection, answerTo?: Signalling) => {
        for (;;) {
          const body = await from.next().catch(() => undefined);
          if (!body) return;
          const d = body['description'] as RTCSessionDescriptionInit | undefined;
          const c = body['candidate'] as RTCIceCandidateInit | null | undefined;
          if (d) {
            await pc.setRemoteDescription(d);
            if (answerTo) {
              const answer = await pc.createAnswer();
              await pc.setLocalDescription(answer);
              answerTo.send({ description: { type: 'answer', sdp: noCandidates(pc.localDescription!.sdp) } });
            }
          } else if (c) await pc.addIceCandidate(c).catch(bestEffort); // a late candidate after close
          else if (body['done']) (from === toA ? toB : toA).send(body); // pass verdicts through
        }
      };
      void pump(toA, toLeader, toA);
      void pump(toB, toFollower);
      return () => {
        toLeader.close();
        toFollower.close();
      };
    };
    const stop = await mitm();
    const c = webrtcConnector({ RTCPeerConnection: RTC, rtcConfiguration: LOOPBACK, iceTimeoutMs: 15_000 });
    const results = await Promise.allSettled([
      c.connect({ role: 'leader', signalling: sa, deriveKey }),
      c.connect({ role: 'follower', signalling: sb, deriveKey }),
    ]);
    stop();
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(isWormholeError(err, 'Tampered'), String(err)).toBe(true);
    }
    expect(String((results[0] as PromiseRejectedResult).reason.message)).toMatch(/could not prove the wormhole key|could not confirm/);
  });

  it('the leader gives up within the bound when ICE cannot succeed; both sides agree (code Connection)', async () => {
    const t0 = performance.now();
    const c = webrtcConnector({ RTCPeerConnection: RTC, rtcConfiguration: LOOPBACK, relayOnly: true, iceTimeoutMs: 1500 });
    const [sa, sb] = signallingPair();
    const both = await Promise.allSettled([
      c.connect({ role: 'leader', signalling: sa, deriveKey }),
      c.connect({ role: 'follower', signalling: sb, deriveKey }),
    ]);
    for (const r of both) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(isWormholeError(err, 'Connection')).toBe(true);
      // Both sides are told where it stalled: relay-only with no TURN server reveals no candidate.
      expect(String(err.message)).toMatch(/not connected within 1500 ms \(descriptions exchanged; candidates sent 0, received 0; ICE \w+; connection \w+; control channel not open\)/);
    }
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('w.connect() through the Debian mailbox (Node ↔ Node)', () => {
  let mailbox: MailboxServer;
  let relay: TransitRelay;
  const WS = WebSocket as unknown as WebSocketConstructor;
  const pair = async (rtc: RTCPeerConnectionConstructor | null = RTC): Promise<[Wormhole, Wormhole]> => {
    const [a, b] = await Promise.all([
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: rtc }),
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: rtc }),
    ]);
    b.setCode(await a.allocateCode());
    return [a, b];
  };

  beforeAll(async () => {
    [mailbox, relay] = await Promise.all([startMailboxServer(), startTransitRelay()]);
  });

  it('connects over WebRTC and streams both ways; wormhole messages stay usable after', async () => {
    const [a, b] = await pair();
    const opts = { rtcConfiguration: LOOPBACK };
    const [ca, cb] = await Promise.all([a.connect(opts), b.connect(opts)]);
    expect(ca.kind).toBe('webrtc');
    expect(cb.kind).toBe('webrtc');
    const s = await ca.openStream();
    const incoming = cb.incoming[Symbol.asyncIterator]().next();
    const [sha, got] = await Promise.all([writeRandom(s.writable, 8 * 1024 * 1024), incoming.then((r) => readAll(r.value!.readable))]);
    expect(got.sha256).toBe(sha);
    const stats = await ca.getStats();
    expect(stats.path).toContain('127.0.0.1');
    expect(stats.localCandidateType).toBe('host');
    // Signalling consumed exactly its own messages: the next app message is ours.
    a.sendMessage(new TextEncoder().encode('after'));
    expect(new TextDecoder().decode(await b.nextMessage())).toBe('after');
    await ca.close();
    await cb.closed;
    await Promise.all([a.close(), b.close()]);
  });

  it('falls back to Transit + mux-v1 through the relay when ICE cannot succeed', async () => {
    const [a, b] = await pair();
    const opts = {
      rtcConfiguration: LOOPBACK,
      relayOnly: true, // and no TURN server: ICE has nothing to try
      iceTimeoutMs: 2000,
      relay: { relays: [relay.hint], dialers: { tcp: tcpDialer() } },
    };
    const t0 = performance.now();
    const [ca, cb] = await Promise.all([a.connect(opts), b.connect(opts)]);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(ca.kind).toBe('relay');
    expect(cb.kind).toBe('relay');
    expect((await ca.getStats()).path).toContain('relay');
    const s = await cb.openStream();
    const incoming = ca.incoming[Symbol.asyncIterator]().next();
    const [sha, got] = await Promise.all([writeRandom(s.writable, 4 * 1024 * 1024), incoming.then((r) => readAll(r.value!.readable))]);
    expect(got.sha256).toBe(sha);
    await cb.close();
    await ca.closed;
    await Promise.all([a.close(), b.close()]);
  });

  it('when the Transit fallback fails too, the error says why WebRTC gave up first', async () => {
    const [a, b] = await pair();
    // relay-only ICE with no TURN server, and no relay or listener for Transit: both ways fail.
    const opts = { rtcConfiguration: LOOPBACK, relayOnly: true, iceTimeoutMs: 1000, relay: { dialers: { tcp: tcpDialer() } }, timeoutMs: 20_000 };
    const both = await Promise.allSettled([a.connect(opts), b.connect(opts)]);
    for (const r of both) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toMatchObject({ code: 'Connection' });
      expect(String(err.message)).toMatch(/, after WebRTC: .*not connected within 1000 ms \(descriptions exchanged; candidates sent 0, received 0/);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('uses direct TCP (kind direct) when neither side has WebRTC and one listens', async () => {
    const [a, b] = await Promise.all([
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: null }),
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: null }),
    ]);
    b.setCode(await a.allocateCode());
    const relay = { dialers: { tcp: tcpDialer() }, listen: tcpListen({ host: '127.0.0.1', addresses: ['127.0.0.1'] }) };
    const [ca, cb] = await Promise.all([a.connect({ relay }), b.connect({ relay })]);
    expect([ca.kind, cb.kind]).toEqual(['direct', 'direct']);
    const s = await cb.openStream();
    const incoming = ca.incoming[Symbol.asyncIterator]().next();
    const [sha, got] = await Promise.all([writeRandom(s.writable, 4 * 1024 * 1024), incoming.then((r) => readAll(r.value!.readable))]);
    expect(got.sha256).toBe(sha);
    await ca.close();
    await cb.closed;
    await Promise.all([a.close(), b.close()]);
  });

  it('uses Transit directly when one side has no WebRTC', async () => {
    const [a, b] = await Promise.all([
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC }),
      createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: null }),
    ]);
    b.setCode(await a.allocateCode());
    const relayOpts = { relay: { relays: [relay.hint], dialers: { tcp: tcpDialer() } } };
    const [ca, cb] = await Promise.all([a.connect(relayOpts), b.connect(relayOpts)]);
    expect([ca.kind, cb.kind]).toEqual(['relay', 'relay']);
    const s = await ca.openStream();
    const w = s.writable.getWriter();
    await w.write(new TextEncoder().encode('via relay'));
    await w.close();
    const r = await cb.incoming[Symbol.asyncIterator]().next();
    const got = await readAll(r.value!.readable);
    expect(createHash('sha256').update('via relay').digest('hex')).toBe(got.sha256);
    await ca.close();
    await Promise.all([a.close(), b.close()]);
  });
});
