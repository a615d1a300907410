// When each side of webrtc-v1 trickles its ICE candidates. A leader on a
// non-browser stack holds its own until it has set the follower's answer:
// otherwise the follower's ICE connects first and its DTLS ClientHello
// reaches a leader with no DTLS transport yet (node-datachannel drops it and
// retransmits after 1 s). Browsers keep an early ClientHello, so a leader on
// the page's own RTCPeerConnection trickles at once.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import type { RTCPeerConnectionConstructor } from '../src/index.js';
import { webrtcConnector, type Signalling } from '../src/testing.js';

const SDP = 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n';
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

/** Just enough of an RTCPeerConnection for the negotiation's first steps; the test fires its candidate events. */
class FakePeerConnection extends EventTarget {
  static last: FakePeerConnection | undefined;
  signalingState = 'stable';
  iceConnectionState = 'new';
  iceGatheringState = 'new';
  connectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  constructor() {
    super();
    FakePeerConnection.last = this;
  }
  createDataChannel(label: string) {
    return Object.assign(new EventTarget(), {
      label,
      readyState: 'connecting',
      close() {
        /* never opened */
      },
    });
  }
  createOffer = () => Promise.resolve({ type: 'offer' as const, sdp: SDP });
  createAnswer = () => Promise.resolve({ type: 'answer' as const, sdp: SDP });
  setLocalDescription(d: RTCSessionDescriptionInit) {
    this.localDescription = d;
    return Promise.resolve();
  }
  setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    return Promise.resolve();
  }
  addIceCandidate = () => Promise.resolve();
  close() {
    this.signalingState = 'closed';
  }
  /** Gather one candidate, then the end of candidates. */
  gather(): void {
    this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: CANDIDATE }));
    this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: null }));
  }
}

/** Our outgoing bodies (with whether the remote description was set when each left), and a queue for the peer's. */
function scriptedSignalling() {
  const sent: { body: Record<string, unknown>; remoteSet: boolean }[] = [];
  const inbox: Record<string, unknown>[] = [];
  const waiters: ((b: Record<string, unknown>) => void)[] = [];
  const signalling: Signalling = {
    send: (body) => void sent.push({ body, remoteSet: FakePeerConnection.last?.remoteDescription != null }),
    next: () => {
      const b = inbox.shift();
      return b ? Promise.resolve(b) : new Promise((resolve) => waiters.push(resolve));
    },
  };
  const deliver = (body: Record<string, unknown>) => {
    const w = waiters.shift();
    if (w) w(body);
    else inbox.push(body);
  };
  return { sent, signalling, deliver };
}

const kinds = (sent: { body: Record<string, unknown> }[]) => sent.map((s) => Object.keys(s.body)[0]);

describe('webrtc-v1 candidate trickle', () => {
  const connector = webrtcConnector({ RTCPeerConnection: FakePeerConnection as unknown as RTCPeerConnectionConstructor, iceTimeoutMs: 60_000 });
  const deriveKey = () => Promise.resolve(new Uint8Array(32));

  it('the leader sends its candidates only once it has set the answer', async () => {
    const { sent, signalling, deliver } = scriptedSignalling();
    const ac = new AbortController();
    const connecting = connector.connect({ role: 'leader', signalling, deriveKey, signal: ac.signal });
    await waitFor(() => sent.length >= 1, { message: 'the offer', intervalMs: 1 });
    FakePeerConnection.last!.gather(); // dispatched synchronously: anything sent would be in `sent` now
    expect(kinds(sent)).toEqual(['description']);

    deliver({ description: { type: 'answer', sdp: SDP } });
    await waitFor(() => sent.length >= 3, { message: 'the held candidates', intervalMs: 1 });
    expect(sent.map((s) => s.body)).toEqual([{ description: { type: 'offer', sdp: SDP } }, { candidate: CANDIDATE }, { candidate: null }]);
    expect(sent[1]!.remoteSet).toBe(true);

    ac.abort();
    await expect(connecting).rejects.toMatchObject({ code: 'Aborted' });
  });

  it("a leader on the page's own RTCPeerConnection trickles at once", async () => {
    const g = globalThis as { RTCPeerConnection?: unknown };
    const before = g.RTCPeerConnection;
    g.RTCPeerConnection = FakePeerConnection;
    try {
      const { sent, signalling } = scriptedSignalling();
      const ac = new AbortController();
      const connecting = webrtcConnector({ iceTimeoutMs: 60_000 }).connect({ role: 'leader', signalling, deriveKey, signal: ac.signal });
      await waitFor(() => sent.length >= 1, { message: 'the offer', intervalMs: 1 });
      FakePeerConnection.last!.gather();
      expect(kinds(sent)).toEqual(['description', 'candidate', 'candidate']);
      ac.abort();
      await expect(connecting).rejects.toMatchObject({ code: 'Aborted' });
    } finally {
      g.RTCPeerConnection = before;
    }
  });

  it('the follower sends its candidates right after its answer', async () => {
    const { sent, signalling, deliver } = scriptedSignalling();
    const ac = new AbortController();
    const connecting = connector.connect({ role: 'follower', signalling, deriveKey, signal: ac.signal });
    deliver({ description: { type: 'offer', sdp: SDP } });
    await waitFor(() => sent.length >= 1, { message: 'the answer', intervalMs: 1 });
    FakePeerConnection.last!.gather();
    expect(kinds(sent)).toEqual(['description', 'candidate', 'candidate']);

    ac.abort();
    await expect(connecting).rejects.toMatchObject({ code: 'Aborted' });
  });
});
