// When each side of webrtc-v1 trickles its ICE candidates. A leader on a
// non-browser stack holds its own until it has set the follower's answer:
// otherwise the follower's ICE connects first and its DTLS ClientHello
// reaches a leader with no DTLS transport yet (node-datachannel drops it and
// retransmits after 1 s). Browsers keep an early ClientHello, so a leader on
// the page's own RTCPeerConnection trickles at once.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import type { RTCPeerConnectionConstructor } from '../src/index.js';
import { webrtcConnector } from '../src/testing.js';
import { CANDIDATE, FakePeerConnection, SDP, scriptedSignalling } from './support/fake-webrtc.js';

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
