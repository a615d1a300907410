// webrtc-v1's key confirmation on the control channel. Each side repeats its
// confirm until it knows the peer has it — the follower until the leader's
// confirm arrives, the leader until the follower's `done` — because Chromium
// under load was seen to lose the first message of a fresh channel pair (both
// sides open, the follower's confirm sent, nothing heard for 10 s: ~1 in 10
// TURN connects with four browser pairs on two cores). The other side uses
// the first copy that arrives and ignores the rest.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { toHex } from '@burrow/protocol';
import { CONTROL_LABEL, confirmMac, sdpFingerprints, type ConnectRole } from '@burrow/protocol/webrtc';
import type { RTCPeerConnectionConstructor } from '../src/index.js';
import { webrtcConnector } from '../src/testing.js';
import { FakePeerConnection, SDP, scriptedSignalling } from './support/fake-webrtc.js';

const KEY = new Uint8Array(32);
const FP = sdpFingerprints(SDP, 'local'); // both fake sides show the same fingerprint
const confirmOf = (role: ConnectRole) => JSON.stringify({ confirm: toHex(confirmMac(KEY, role, FP, FP)) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('webrtc-v1 key confirmation', () => {
  const connector = webrtcConnector({ RTCPeerConnection: FakePeerConnection as unknown as RTCPeerConnectionConstructor, iceTimeoutMs: 60_000 });
  const deriveKey = () => Promise.resolve(KEY);

  it('the follower repeats its confirm until the leader answers, then stops', async () => {
    const { sent, signalling, deliver } = scriptedSignalling();
    const connecting = connector.connect({ role: 'follower', signalling, deriveKey });
    deliver({ description: { type: 'offer', sdp: SDP } });
    await waitFor(() => sent.length >= 1, { message: 'the answer', intervalMs: 1 });
    const control = FakePeerConnection.last!.announce(CONTROL_LABEL);

    // The leader "lost" the first copy: the follower says it again, the same words.
    await waitFor(() => control.sent.length >= 2, { message: 'a repeated confirm', timeoutMs: 5_000 });
    expect(new Set(control.sent)).toEqual(new Set([confirmOf('follower')]));

    control.hear(confirmOf('leader'));
    await waitFor(() => sent.some((s) => s.body['done'] === 'webrtc'), { message: "the follower's done", intervalMs: 1 });
    const said = control.sent.length;
    await sleep(1_200); // more than two repeat intervals
    expect(control.sent.length).toBe(said);

    deliver({ done: 'webrtc' });
    const conn = await connecting;
    expect(conn.kind).toBe('webrtc');
    await conn.close();
  });

  it('the leader uses the first of repeated confirms and repeats its own until the follower is done', async () => {
    const { sent, signalling, deliver } = scriptedSignalling();
    const connecting = connector.connect({ role: 'leader', signalling, deriveKey });
    await waitFor(() => sent.length >= 1, { message: 'the offer', intervalMs: 1 });
    deliver({ description: { type: 'answer', sdp: SDP } });
    const control = FakePeerConnection.last!.channels[0]!;
    expect(control.label).toBe(CONTROL_LABEL);
    control.open();

    for (let i = 0; i < 3; i++) control.hear(confirmOf('follower'));
    await waitFor(() => sent.some((s) => s.body['done'] === 'webrtc'), { message: "the leader's done", intervalMs: 1 });
    await waitFor(() => control.sent.length >= 2, { message: "the leader's repeated confirm", timeoutMs: 5_000 });
    expect(new Set(control.sent)).toEqual(new Set([confirmOf('leader')]));

    deliver({ done: 'webrtc' });
    const conn = await connecting;
    const said = control.sent.length;
    await sleep(1_200);
    expect(control.sent.filter((m) => m.includes('confirm'))).toHaveLength(said);
    await conn.close();
  });

  it('a wrong confirm fails the connection as Tampered, repeats or not', async () => {
    const { sent, signalling, deliver } = scriptedSignalling();
    const outcome = connector.connect({ role: 'leader', signalling, deriveKey }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor(() => sent.length >= 1, { message: 'the offer', intervalMs: 1 });
    deliver({ description: { type: 'answer', sdp: SDP } });
    const control = FakePeerConnection.last!.channels[0]!;
    control.open();
    control.hear(confirmOf('leader')); // a reflected MAC
    control.hear(confirmOf('leader'));
    expect(await outcome).toMatchObject({ code: 'Tampered' });
    expect(sent.at(-1)!.body).toMatchObject({ done: 'failed' });
    expect(control.sent).toEqual([]); // the leader never proves the key to a peer that could not
  });
});
