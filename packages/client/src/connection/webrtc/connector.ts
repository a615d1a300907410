/**
 * The webrtc-v1 connector: one RTCPeerConnection, negotiated through the
 * encrypted wormhole, its DTLS fingerprints bound to the PAKE.
 *
 * Signalling: wormhole messages `{"webrtc-v1": BODY}` whose bodies are in
 * `@burrow/protocol/webrtc` signalling.ts (description, trickled
 * candidates, and `done` last).
 *
 * On the control channel, once it opens: the follower sends its confirm
 * MAC (confirm.ts); the leader checks it and only then sends its own (at
 * that moment the leader is committed to WebRTC) and `done: webrtc`; the
 * follower checks the leader's MAC and answers `done: webrtc`. Each side
 * returns the connection once it has checked the peer's MAC *and* read the
 * peer's `done`, so both stop reading wormhole messages at the same point.
 *
 * The leader alone decides to give up: if the channel is not confirmed
 * within `iceTimeoutMs` (or ICE fails first) it sends `done: fallback`, the
 * follower answers the same, and both reject with code `Connection` so the
 * caller can try the relay. A MAC that does not verify fails closed with
 * `Tampered` on both sides (`done: failed` tells the peer).
 */
import { bestEffort, observed } from '@burrow/protocol';
import { WormholeError, abortError, fromHex, toHex, type Logger } from '@burrow/protocol';
import {
  CONFIRM_PURPOSE,
  WEBRTC_V1,
  checkConfirm,
  confirmMac,
  encodeCandidate,
  encodeDescription,
  encodeDone,
  isRelayCandidate,
  outgoingCandidate,
  parseWebRtcSignal,
  sdpFingerprints,
  type IceCandidate,
  type SessionDescription,
  type WebRtcDone,
} from '@burrow/protocol/webrtc';
import type { Connection, ConnectorContext, ConnectorFactory } from '../types.js';
import { DEFAULT_WATERMARKS, type Watermarks } from './channel.js';
import { WebRtcConnection } from './connection.js';
import type { RTCPeerConnectionConstructor } from '../advertise.js';

export { WEBRTC_V1, hasWebRtc, type RTCPeerConnectionConstructor } from '../advertise.js';

export interface WebRtcOptions {
  /** Default `globalThis.RTCPeerConnection`. On Node pass `RTCPeerConnection` from `node-datachannel/polyfill`. */
  RTCPeerConnection?: RTCPeerConnectionConstructor;
  /** STUN/TURN servers, e.g. `[{ urls: 'turn:127.0.0.1:3478', username, credential }]`. */
  iceServers?: RTCIceServer[];
  /** Use only TURN relays (`iceTransportPolicy: 'relay'`): the peer never learns our addresses. */
  relayOnly?: boolean;
  /** Extra RTCConfiguration keys passed through (e.g. `{ bindAddress: '127.0.0.1' }` for node-datachannel). */
  rtcConfiguration?: RTCConfiguration & Record<string, unknown>;
  /** The leader falls back if the channel is not confirmed within this many ms (default 10 000). */
  iceTimeoutMs?: number;
  /** Send-side watermarks on `bufferedAmount`. */
  watermarks?: Partial<Watermarks>;
  logger?: Logger;
}

/** How often a side repeats its confirm until the peer has it (see repeatConfirm). */
const CONFIRM_REPEAT_MS = 500;

function tampered(message: string, cause?: unknown): WormholeError {
  return new WormholeError('Tampered', message, { blame: 'peer', ...(cause === undefined ? {} : { cause }) });
}

/** The WebRTC connector factory. */
export const webrtcConnector: ConnectorFactory<WebRtcOptions> = (options) => ({
  name: WEBRTC_V1,
  connect: (ctx) => negotiate(ctx, options),
});

async function negotiate(ctx: ConnectorContext, options: WebRtcOptions): Promise<Connection> {
  ctx.signal?.throwIfAborted();
  const Ctor = options.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: RTCPeerConnectionConstructor }).RTCPeerConnection;
  if (!Ctor) throw new WormholeError('Usage', 'no RTCPeerConnection: pass { RTCPeerConnection } (node-datachannel/polyfill on Node)');
  const log = options.logger;
  const leader = ctx.role === 'leader';
  const marks: Watermarks = { ...DEFAULT_WATERMARKS, ...options.watermarks };
  const confirmKey = await ctx.deriveKey(CONFIRM_PURPOSE, 32);
  const config: RTCConfiguration = {
    ...options.rtcConfiguration,
    iceServers: options.iceServers ?? options.rtcConfiguration?.iceServers ?? [],
    iceTransportPolicy: options.relayOnly ? 'relay' : (options.rtcConfiguration?.iceTransportPolicy ?? 'all'),
  };
  const pc = new Ctor(config);
  const conn = new WebRtcConnection(pc, marks);
  conn.closed.catch(observed);

  // ---- outgoing signalling: description first, then trickled candidates; nothing after `done`.
  // A leader on a non-browser stack holds its candidates until it has set the answer. Otherwise
  // the follower's ICE connects first (stacks answer checks before they know the peer) and its
  // DTLS ClientHello reaches a leader with no DTLS transport yet: node-datachannel drops it and
  // retransmits only after 1 s. Browsers keep such an early ClientHello, so a page's leader
  // trickles at once and saves the follower a signalling round before ICE can start.
  const holdUntilAnswer = leader && Ctor !== (globalThis as { RTCPeerConnection?: RTCPeerConnectionConstructor }).RTCPeerConnection;
  let trickling = false;
  /** How far the attempt got, for the message when it gives up (which step stalled). */
  const reached = { sent: 0, received: 0, control: false, confirmed: false, confirmsSent: 0, confirmFailure: '', stopped: '' };
  let sentDone = false;
  let sentEnd = false;
  const early: (IceCandidate | null)[] = [];
  const sendCandidate = (c: IceCandidate | null) => {
    if (sentDone || sentEnd) return;
    if (!trickling) return void early.push(c);
    if (c === null) sentEnd = true;
    else reached.sent++;
    try {
      ctx.signalling.send(encodeCandidate(c));
    } catch (err) {
      // Called from event listeners: never throw there. A dead wormhole also fails the reading loop.
      log?.debug?.('webrtc: could not send a candidate', { error: String(err) });
    }
  };
  pc.addEventListener('icecandidate', (ev) => {
    const c = (ev as RTCPeerConnectionIceEvent).candidate;
    if (!c || !c.candidate) return sendCandidate(null);
    if (options.relayOnly && !isRelayCandidate(c.candidate)) return; // never reveal our addresses
    sendCandidate(outgoingCandidate(c));
  });
  pc.addEventListener('icegatheringstatechange', () => {
    // Stacks without a null candidate event (node-datachannel) may report `complete` before the
    // last candidate events have been dispatched: end the trickle a little later.
    if (pc.iceGatheringState === 'complete') setTimeout(() => sendCandidate(null), 50);
  });
  const sendDescription = (d: RTCSessionDescriptionInit) => {
    // Candidates travel only as trickle messages (relay-only filtering applies to them, and
    // libdatachannel can fail on candidates inside a remote description).
    ctx.signalling.send(encodeDescription(d));
    if (!holdUntilAnswer) startTrickle();
  };
  const startTrickle = () => {
    trickling = true;
    for (const c of early.splice(0)) sendCandidate(c);
  };
  const sendDone = (done: WebRtcDone, reason?: string) => {
    if (sentDone) return;
    sentDone = true;
    ctx.signalling.send(encodeDone(done, reason));
  };

  // ---- incoming signalling
  let localFp: string | undefined;
  let remoteFp: string | undefined;
  let remoteSet = false;
  const pendingRemote: IceCandidate[] = [];
  // node-datachannel can refuse a candidate that arrives while its ICE transport is still being
  // set up ("without ICE transport", ~1 run in 13 here) although the remote description is set:
  // try again a few times before giving it up, or ICE may sit in checking until the fallback.
  const addCandidate = async (c: IceCandidate, attempt = 0): Promise<void> => {
    try {
      await pc.addIceCandidate(c);
    } catch (err) {
      if (attempt >= 5 || pc.signalingState === 'closed') return void log?.debug?.('webrtc: ignoring a candidate', { error: String(err) });
      await new Promise((resolve) => setTimeout(resolve, 50 << attempt));
      return addCandidate(c, attempt + 1);
    }
  };
  const applyRemote = async (d: SessionDescription) => {
    if ((d.type === 'offer') !== !leader || remoteSet) throw new WormholeError('RemoteProtocol', `webrtc-v1: unexpected ${d.type}`);
    remoteFp = sdpFingerprints(d.sdp ?? '', 'remote');
    await pc.setRemoteDescription(d);
    remoteSet = true;
    if (!leader) {
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const local = pc.localDescription?.sdp ? { type: 'answer' as const, sdp: pc.localDescription.sdp } : answer;
      localFp = sdpFingerprints(local.sdp ?? '', 'local');
      sendDescription(local);
    }
    for (const c of pendingRemote.splice(0)) void addCandidate(c);
    if (holdUntilAnswer) startTrickle();
  };

  let peerDone: { done: WebRtcDone; reason: string } | undefined;
  let onPeerDone: (() => void) | undefined;
  const reading = (async () => {
    for (;;) {
      const s = parseWebRtcSignal(await ctx.signalling.next(ctx.signal ? { signal: ctx.signal } : {}));
      if (s.type === 'description') await applyRemote(s.description);
      else if (s.type === 'candidate') {
        if (s.candidate === null) {
          if (remoteSet) void pc.addIceCandidate({ candidate: '' }).catch(bestEffort); // end-of-candidates is a hint
        } else {
          reached.received++;
          if (remoteSet) void addCandidate(s.candidate);
          else pendingRemote.push(s.candidate);
        }
      } else if (s.type === 'done') {
        peerDone = { done: s.done, reason: s.reason };
        onPeerDone?.();
        return;
      }
    }
  })();
  const peerDonePromise = reading.then(() => peerDone!);
  peerDonePromise.catch(observed); // the failure surfaces through `result`

  // ---- the confirmation over the control channel
  const fps = () => {
    if (!localFp || !remoteFp) throw new WormholeError('RemoteProtocol', 'webrtc-v1: channel opened before both descriptions were known');
    return leader ? { l: localFp, f: remoteFp } : { l: remoteFp, f: localFp };
  };
  const sendConfirm = () => {
    const { l, f } = fps();
    const failed = conn.sendControl({ type: 'confirm', mac: toHex(confirmMac(confirmKey, ctx.role, l, f)) });
    if (failed === undefined) reached.confirmsSent++;
    else reached.confirmFailure = failed;
  };
  /**
   * Send our confirm, and again every CONFIRM_REPEAT_MS until `heard` settles (the peer has it).
   * The control channel is reliable, yet under load a Chromium pair was seen with both ends open,
   * the confirm sent and nothing heard for 10 s (cause not found; repeating cured it in 123 loaded
   * runs). The peer uses the first copy that arrives and ignores the rest.
   */
  const repeatConfirm = (heard: Promise<unknown>) => {
    sendConfirm();
    const timer = setInterval(() => (finished ? clearInterval(timer) : sendConfirm()), CONFIRM_REPEAT_MS);
    const stop = () => clearInterval(timer);
    heard.then(stop, stop);
  };
  const verifyConfirm = async () => {
    const mac = await conn.nextConfirm();
    const { l, f } = fps();
    if (!checkConfirm(confirmMac(confirmKey, leader ? 'follower' : 'leader', l, f), fromHex(mac))) {
      throw tampered('the WebRTC peer could not prove the wormhole key: the DTLS fingerprints it saw differ from ours (someone is in the middle)');
    }
  };

  // Everything below races: the peer's `done`, the channel, ICE failure, the leader's deadline, abort.
  let settle!: { resolve: (c: Connection) => void; reject: (e: unknown) => void };
  const result = new Promise<Connection>((resolve, reject) => (settle = { resolve, reject }));
  let finished = false;
  const fail = (error: unknown, done?: WebRtcDone) => {
    if (finished) return;
    finished = true;
    if (done) {
      try {
        sendDone(done, error instanceof Error ? error.message : String(error));
      } catch {
        // the wormhole is gone
      }
    }
    conn.fail(error instanceof WormholeError ? error : new WormholeError('Connection', String(error), { cause: error }));
    settle.reject(error);
  };
  /** Leader gives up on WebRTC: tell the follower, wait for its `done`, then reject with `Connection`. */
  let committed = false;
  let fallingBack = false;
  const fallback = (why: string) => {
    if (finished || committed || fallingBack || !leader) return;
    fallingBack = true;
    log?.info?.('webrtc: falling back', { why });
    sendDone('fallback', why);
    conn.fail(new WormholeError('Connection', why));
    void peerDonePromise.then(
      (p) => fail(p.done === 'failed' ? tampered(`the peer reported: ${p.reason}`) : new WormholeError('Connection', `WebRTC did not connect: ${why}`)),
      (e: unknown) => fail(e),
    );
  };

  const confirmState = () =>
    reached.confirmsSent > 0 ? `sent ×${reached.confirmsSent}` : reached.confirmFailure ? `not sent (${reached.confirmFailure})` : 'not sent';
  const stalled = () =>
    [
      remoteSet ? 'descriptions exchanged' : 'no answer from the peer',
      `candidates sent ${reached.sent}, received ${reached.received}`,
      `ICE ${pc.iceConnectionState}`,
      `connection ${pc.connectionState ?? 'unknown'}`,
      reached.control
        ? `control channel open, ${reached.confirmed ? 'peer confirmed' : 'no confirmation'} (${conn.controlHeard} messages heard; our confirm ${confirmState()})`
        : 'control channel not open',
      ...(reached.stopped ? [`stopped: ${reached.stopped}`] : []),
    ].join('; ');
  const onAbort = () => fail(abortError(ctx.signal!));
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = leader ? setTimeout(() => fallback(`not connected within ${options.iceTimeoutMs ?? 10_000} ms (${stalled()})`), options.iceTimeoutMs ?? 10_000) : undefined;
  const onIce = () => {
    log?.debug?.('webrtc: ICE state', { role: ctx.role, state: pc.iceConnectionState });
    if (pc.iceConnectionState === 'failed') fallback(`ICE failed (${stalled()})`);
  };
  pc.addEventListener('iceconnectionstatechange', onIce);

  reading.catch((e: unknown) => fail(e, 'failed'));
  onPeerDone = () => {
    const p = peerDone!;
    if (p.done === 'failed') fail(tampered(`the peer could not confirm the connection: ${p.reason}`));
    else if (p.done === 'fallback' && !leader) {
      sendDone('fallback', 'the leader gave up');
      // Both sides' view of how far it got: the leader's reason, then ours.
      fail(new WormholeError('Connection', `WebRTC did not connect: ${p.reason || 'the peer gave up'}; the follower saw: ${stalled()}`));
    }
  };

  (async () => {
    if (leader) {
      conn.createControl();
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const local = pc.localDescription?.sdp ? { type: 'offer' as const, sdp: pc.localDescription.sdp } : offer;
      localFp = sdpFingerprints(local.sdp ?? '', 'local');
      sendDescription(local);
      await conn.controlOpen;
      reached.control = true;
      log?.debug?.('webrtc: control channel open', { role: ctx.role });
      await verifyConfirm();
      reached.confirmed = true;
      log?.debug?.('webrtc: peer confirmed', { role: ctx.role });
      if (finished || fallingBack) return;
      committed = true;
      clearTimeout(deadline);
      conn.verified();
      repeatConfirm(peerDonePromise);
      sendDone('webrtc');
      const p = await peerDonePromise;
      if (p.done !== 'webrtc') throw tampered(`the peer could not confirm the connection: ${p.reason}`);
    } else {
      await conn.controlOpen;
      reached.control = true;
      log?.debug?.('webrtc: control channel open', { role: ctx.role });
      const confirmed = verifyConfirm();
      repeatConfirm(confirmed);
      await confirmed;
      reached.confirmed = true;
      log?.debug?.('webrtc: peer confirmed', { role: ctx.role });
      if (finished) return;
      conn.verified();
      sendDone('webrtc');
      const p = await peerDonePromise;
      if (p.done !== 'webrtc') throw new WormholeError('RemoteProtocol', `webrtc-v1: leader confirmed, then said ${p.done}`);
    }
    if (finished) return;
    finished = true;
    settle.resolve(conn);
  })().catch((e: unknown) => {
    if (e instanceof WormholeError && e.code === 'Tampered') return fail(e, 'failed');
    // The channel broke before it was confirmed: the leader decides, the follower waits for that decision.
    if (leader && !committed) return fallback(e instanceof Error ? e.message : String(e));
    if (!leader && !peerDone) {
      reached.stopped = e instanceof Error ? e.message : String(e);
      void peerDonePromise.then((p) => p.done === 'webrtc' && fail(e), observed); // a failed decision fails `result` on its own
      return;
    }
    fail(e);
  });

  try {
    return await result;
  } finally {
    clearTimeout(deadline);
    ctx.signal?.removeEventListener('abort', onAbort);
    pc.removeEventListener('iceconnectionstatechange', onIce);
  }
}
