// A scripted stand-in for an RTCPeerConnection and for the wormhole's
// signalling: enough for the webrtc-v1 negotiation's steps, driven by the
// test (it fires the candidate and data-channel events itself).
import type { Signalling } from '../../src/testing.js';

export const SDP = 'v=0\r\na=fingerprint:sha-256 AB:CD\r\n';
export const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };

/** Just enough of an RTCPeerConnection for the negotiation's first steps; the test fires its candidate events. */
export class FakePeerConnection extends EventTarget {
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
  /** Every data channel this side created or was given, in order. */
  readonly channels: FakeDataChannel[] = [];
  createDataChannel(label: string) {
    const c = new FakeDataChannel(label);
    this.channels.push(c);
    return c;
  }
  /** The peer opened a channel: announce it (already open, as browsers do). */
  announce(label: string): FakeDataChannel {
    const c = new FakeDataChannel(label);
    c.readyState = 'open';
    this.channels.push(c);
    this.dispatchEvent(Object.assign(new Event('datachannel'), { channel: c }));
    return c;
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

/** A data channel that keeps what is sent on it; the test opens it and speaks for the peer. */
export class FakeDataChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'arraybuffer';
  readonly id = null;
  readonly sent: string[] = [];
  constructor(readonly label: string) {
    super();
  }
  send(data: string): void {
    this.sent.push(data);
  }
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  /** A message from the peer. */
  hear(data: string): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
  close(): void {
    this.readyState = 'closed';
  }
}

/** Our outgoing bodies (with whether the remote description was set when each left), and a queue for the peer's. */
export function scriptedSignalling() {
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

