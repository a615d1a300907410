// w.connect() over TURN with nothing but what the gateway announces: two
// Node clients (node-datachannel) pass no ICE servers, so WebRTC uses the
// welcome's `burrow-ice-v1` entry — Debian coturn with a credential the
// gateway minted for each connection (coturn's use-auth-secret). With
// `relayOnly` (iceTransportPolicy 'relay') only relay candidates are
// signalled; coturn's log shows the allocations under the minted usernames;
// a gateway minting with the wrong secret gets no WebRTC channel at all.
// Limit: node-datachannel does not enforce the relay policy on its own
// sockets, and without a packet filter in the netns loopback host sockets
// can reach each other once TURN has opened the way (see the stats check).
import WebSocket from 'ws';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { assertPrivateNetwork, cleanup, startCoturn, type Coturn } from '@burrow/testkit';
import { createWormhole, iceServersFromWelcome, type RTCPeerConnectionConstructor, type WebSocketConstructor } from '@burrow/client';
import { readAll, writeRandom } from '../test/connection-compliance.js';

const SECRET = 'burrow-turn-secret';
const HOST = { bindAddress: '127.0.0.1' };

/**
 * node-datachannel's polyfill hands TURN servers to libdatachannel as
 * `turn:USER:PASS@host`, which breaks on the colon in a REST username
 * (`EXPIRY:LABEL`) and on `/` in a base64 password; libdatachannel
 * URL-decodes both, so encode them here (a browser takes them as they are).
 */
class NodeRtc extends (NdcPeerConnection as unknown as { new (config?: RTCConfiguration): RTCPeerConnection }) {
  constructor(config: RTCConfiguration = {}) {
    const encode = (s: RTCIceServer): RTCIceServer =>
      s.username && typeof s.credential === 'string' ? { ...s, username: encodeURIComponent(s.username), credential: encodeURIComponent(s.credential) } : s;
    super({ ...config, iceServers: config.iceServers?.map(encode) ?? [] });
  }
}
const RTC = NodeRtc as unknown as RTCPeerConnectionConstructor;
const WS = WebSocket as unknown as WebSocketConstructor;

describe('WebRTC through coturn with the gateway’s minted credentials only', () => {
  let turn: Coturn;
  let gw: Gateway;

  beforeAll(async () => {
    assertPrivateNetwork();
    turn = await startCoturn({ secret: SECRET });
    gw = await startGateway({ port: 0, transitPort: null, turn: { urls: [turn.url], secret: SECRET, ttlSeconds: 300 } });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
  });

  it('connects over a TURN relay and streams both ways', async () => {
    const [a, b] = await Promise.all([
      createWormhole({ mailbox: gw.url, WebSocket: WS, RTCPeerConnection: RTC }),
      createWormhole({ mailbox: gw.url, WebSocket: WS, RTCPeerConnection: RTC }),
    ]);
    b.setCode(await a.allocateCode());
    const minted = await Promise.all([a, b].map(async (w) => iceServersFromWelcome(await w.welcome)[0]!));
    for (const server of minted) expect(server).toMatchObject({ urls: [turn.url], username: expect.stringMatching(/^\d+:burrow$/) as unknown });
    // No iceServers of our own: only the welcome's. Relay candidates only.
    const opts = { relayOnly: true, iceTimeoutMs: 15_000, rtcConfiguration: HOST };
    const [ca, cb] = await Promise.all([a.connect(opts), b.connect(opts)]);
    expect([ca.kind, cb.kind]).toEqual(['webrtc', 'webrtc']);
    // Only relay candidates were signalled, so ICE could start only through coturn (the test below
    // shows no channel without a good credential). On loopback a TURN permission covers the whole
    // IP, so libjuice may then settle on a peer-reflexive pair between the two host sockets; it
    // often keeps relay ⇄ relay. Either way the path was opened by the minted TURN credentials.
    const [sa, sb] = await Promise.all([ca.getStats(), cb.getStats()]);
    for (const st of [sa, sb]) expect(['relay', 'prflx']).toContain(st.remoteCandidateType);
    // coturn allocated for the usernames the gateway minted (the app passed no credentials).
    for (const server of minted) expect(turn.log()).toContain(`user <${server.username!}>: incoming packet ALLOCATE processed, success`);
    const s = await ca.openStream();
    const incoming = cb.incoming[Symbol.asyncIterator]().next();
    const [sha, got] = await Promise.all([writeRandom(s.writable, 1024 * 1024), incoming.then((r) => readAll(r.value!.readable))]);
    expect(got.sha256).toBe(sha);
    const back = await cb.openStream();
    const incomingA = ca.incoming[Symbol.asyncIterator]().next();
    const [sha2, got2] = await Promise.all([writeRandom(back.writable, 256 * 1024), incomingA.then((r) => readAll(r.value!.readable))]);
    expect(got2.sha256).toBe(sha2);
    await ca.close();
    await cb.closed;
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it('with credentials coturn does not accept (minted with the wrong secret), WebRTC cannot connect', async () => {
    const forged = await startGateway({ port: 0, transitPort: null, turn: { urls: [turn.url], secret: 'not-the-secret' } });
    try {
      const [a, b] = await Promise.all([
        createWormhole({ mailbox: forged.url, WebSocket: WS, RTCPeerConnection: RTC }),
        createWormhole({ mailbox: forged.url, WebSocket: WS, RTCPeerConnection: RTC }),
      ]);
      b.setCode(await a.allocateCode());
      const opts = { relayOnly: true, iceTimeoutMs: 3_000, rtcConfiguration: HOST };
      // No Transit fallback is offered here, so the failed ICE attempt is the answer.
      const results = await Promise.allSettled([a.connect(opts), b.connect(opts)]);
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'Connection' } });
      await Promise.allSettled([a.close(), b.close()]);
    } finally {
      await forged.close();
    }
  }, 60_000);
});
