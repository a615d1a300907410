/**
 * A WebRTC peer connection as a `Connection`: every stream is its own
 * ordered data channel (label `burrow/stream`), and one control channel
 * (`burrow/control`, opened by the leader) carries the PAKE confirmation,
 * pings for RTT and the goodbye; its messages are in
 * `@burrow/protocol/webrtc` control.ts.
 *
 * Peer streams that open before our side has verified the peer's
 * confirmation are held back and only reach `incoming` once it passes;
 * if it fails they are closed unread.
 */
import { bestEffort } from '@burrow/protocol';
import { WormholeError, deferred, type Deferred } from '@burrow/protocol';
import {
  CONTROL_LABEL,
  STREAM_LABEL,
  encodeControlMessage,
  parseChannelControl,
  parseControlMessage,
  type ControlMessage,
} from '@burrow/protocol/webrtc';
import type { CallOptions } from '../../wormhole.js';
import { BaseConnection, CLOSE_FLUSH_MS, MAX_INCOMING_STREAMS, settleWithin } from '../base.js';
import type { StreamCore } from '../stream.js';
import type { DuplexStream } from '../types.js';
import { channelWire, drained, messageBytes, type Watermarks } from './channel.js';

/** Credit each direction of a webrtc-v1 stream starts with. */
export const WEBRTC_INITIAL_WINDOW = 4 * 1024 * 1024;
const CLOSE_GRACE_MS = 100;

export class WebRtcConnection extends BaseConnection {
  readonly kind = 'webrtc' as const;
  readonly pc: RTCPeerConnection;
  readonly #marks: Watermarks;
  #control: RTCDataChannel | undefined;
  readonly #controlReady: Deferred<RTCDataChannel> = deferred<RTCDataChannel>();
  /** Control messages before the confirmation (the confirm itself). */
  readonly #confirms: string[] = [];
  #confirmWaiter: Deferred<string> | undefined;
  #verified = false;
  #controlHeard = 0;
  readonly #held: StreamCore[] = [];
  readonly #channels = new Map<number, RTCDataChannel>();
  #nextLocal = 1;
  #closing = false;
  /** Resolves when the control channel or the peer connection is gone. */
  readonly #transportGone: Deferred<void> = deferred<void>();

  constructor(pc: RTCPeerConnection, marks: Watermarks) {
    super(WEBRTC_INITIAL_WINDOW);
    this.pc = pc;
    this.#marks = marks;
    pc.addEventListener('datachannel', (ev) => this.#onDataChannel((ev as RTCDataChannelEvent).channel));
    pc.addEventListener('connectionstatechange', () => {
      const state = pc.connectionState;
      if (state === 'failed' || state === 'closed') {
        this.#transportGone.resolve();
        // A goodbye may still be in flight behind the state change (node-datachannel): give it a moment.
        setTimeout(() => {
          if (!this.isClosed && !this.#closing) this.fail(new WormholeError('Connection', `the WebRTC connection ${state}`));
        }, CLOSE_GRACE_MS);
      }
    });
  }

  /** Leader: create the control channel (before the offer, so it has an m-line). */
  createControl(): void {
    this.#setControl(this.pc.createDataChannel(CONTROL_LABEL, { ordered: true }));
  }

  /** The control channel once open. */
  get controlOpen(): Promise<RTCDataChannel> {
    return this.#controlReady.promise;
  }

  /** Send on the control channel; never throws. Returns why it was not sent (for diagnostics), or undefined. */
  sendControl(message: ControlMessage): string | undefined {
    const c = this.#control;
    if (c?.readyState !== 'open') return `control channel ${c?.readyState ?? 'missing'}`;
    try {
      c.send(encodeControlMessage(message));
      return undefined;
    } catch (err) {
      // closing under us: the close/failure path reports it
      return `send failed: ${String(err)}`;
    }
  }

  /** Messages heard on the control channel so far (diagnostics: did anything arrive?). */
  get controlHeard(): number {
    return this.#controlHeard;
  }

  /** The peer's confirmation MAC (hex), when it arrives. */
  nextConfirm(): Promise<string> {
    const ready = this.#confirms.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    this.#confirmWaiter = deferred<string>();
    return this.#confirmWaiter.promise;
  }

  /** The peer proved the key: its streams may reach `incoming` now. */
  verified(): void {
    this.#verified = true;
    for (const s of this.#held.splice(0)) this.accept(s);
  }

  async openStream(options: CallOptions = {}): Promise<DuplexStream> {
    await this.assertOpen(options);
    const channel = this.pc.createDataChannel(STREAM_LABEL, { ordered: true });
    channel.binaryType = 'arraybuffer';
    const stream = this.#attach(channel, channel.id ?? -this.#nextLocal++);
    if (channel.readyState !== 'open') {
      await new Promise<void>((resolve, reject) => {
        const cleanup = () => {
          channel.removeEventListener('open', onOpen);
          channel.removeEventListener('close', onClose);
          options.signal?.removeEventListener('abort', onAbort);
        };
        const onOpen = () => (cleanup(), resolve());
        const onClose = () => (cleanup(), reject(new WormholeError('Closed', 'the stream closed before it opened')));
        const onAbort = () => (cleanup(), stream.fail(new WormholeError('Aborted', 'openStream was aborted')), reject(new WormholeError('Aborted', 'openStream was aborted')));
        channel.addEventListener('open', onOpen);
        channel.addEventListener('close', onClose);
        options.signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    return stream;
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.isClosed) return this.closed.catch(bestEffort); // close() resolves once closed, however it closed
    this.#closing = true;
    // Let what the application already wrote leave before the goodbye.
    const open = [...this.#channels.values()].filter((c) => c.readyState === 'open' && c.bufferedAmount > 0);
    if (open.length > 0) {
      await settleWithin(Promise.all(open.map((c) => drained(c, { ...this.#marks, low: 0 }).catch(bestEffort))), CLOSE_FLUSH_MS);
    }
    // Say goodbye and let the peer hang up first (so the goodbye is not lost in our teardown), within a bound.
    this.sendControl({ type: 'bye', reason });
    if (this.#control?.readyState === 'open') await settleWithin(this.#transportGone.promise, CLOSE_FLUSH_MS / 2);
    this.finish();
  }

  protected describe(): Promise<{ path: string; localCandidateType?: string; remoteCandidateType?: string }> {
    return selectedPath(this.pc);
  }

  protected sendPing(n: number): boolean {
    if (this.#control?.readyState !== 'open') return false;
    this.sendControl({ type: 'ping', n });
    return true;
  }

  protected release(): void {
    this.#transportGone.resolve();
    this.#confirmWaiter?.reject(new WormholeError('Closed', 'the connection closed before the peer confirmed'));
    for (const s of this.#held.splice(0)) s.fail(new WormholeError('Closed', 'the connection closed'));
    for (const c of this.#channels.values()) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
    this.#channels.clear();
    try {
      this.#control?.close();
    } catch {
      // closed
    }
    this.pc.close();
  }

  #setControl(channel: RTCDataChannel): void {
    if (this.#control) {
      channel.close();
      return;
    }
    this.#control = channel;
    const open = () => this.#controlReady.resolve(channel);
    if (channel.readyState === 'open') open();
    else channel.addEventListener('open', open, { once: true });
    channel.addEventListener('message', (ev) => {
      this.#controlHeard++;
      this.#onControl(parseControlMessage((ev as MessageEvent).data));
    });
    channel.addEventListener('close', () => {
      this.#transportGone.resolve();
      setTimeout(() => {
        if (!this.isClosed && !this.#closing) this.fail(new WormholeError('Connection', 'the peer closed the WebRTC control channel'));
      }, CLOSE_GRACE_MS);
    });
  }

  #onControl(message: ControlMessage | undefined): void {
    if (!message) return;
    switch (message.type) {
      case 'confirm': {
        const w = this.#confirmWaiter;
        this.#confirmWaiter = undefined;
        if (w) w.resolve(message.mac);
        // A peer repeats its confirm until it knows we have it: keep one copy for a later
        // nextConfirm(), none once verified.
        else if (!this.#verified && this.#confirms.length === 0) this.#confirms.push(message.mac);
        return;
      }
      case 'ping':
        this.sendControl({ type: 'pong', n: message.n });
        return;
      case 'pong':
        this.pong(message.n);
        return;
      case 'bye':
        this.#closing = true;
        this.finish();
        return;
    }
  }

  #onDataChannel(channel: RTCDataChannel): void {
    if (channel.label === CONTROL_LABEL) return this.#setControl(channel);
    if (channel.label !== STREAM_LABEL || this.isClosed) {
      channel.close();
      return;
    }
    channel.binaryType = 'arraybuffer';
    if (this.incomingCount() >= MAX_INCOMING_STREAMS) {
      this.fail(new WormholeError('RemoteProtocol', `peer opened more than ${MAX_INCOMING_STREAMS} streams`));
      return;
    }
    const stream = this.#attach(channel, channel.id ?? -this.#nextLocal++);
    if (this.#verified) this.accept(stream);
    else this.#held.push(stream);
  }

  #attach(channel: RTCDataChannel, id: number): StreamCore {
    const max = (this.pc.sctp?.maxMessageSize as number | null | undefined) ?? 0;
    const stream = this.createStream(id, channelWire(channel, this.#marks, max));
    this.#channels.set(id, channel);
    channel.addEventListener('message', (ev) => {
      const data = (ev as MessageEvent).data;
      if (typeof data === 'string') {
        const c = parseChannelControl(data);
        if (c) stream.onControl(c);
        return;
      }
      const bytes = messageBytes(data);
      if (bytes) stream.onData(bytes);
    });
    channel.addEventListener('close', () => {
      this.#channels.delete(id);
      // Some stacks (node-datachannel) can report the close before the last messages: let them land first.
      setTimeout(() => stream.wireClosed(), CLOSE_GRACE_MS);
    });
    return stream;
  }
}

/** The selected candidate pair, from `getStats()` (standard fields; node-datachannel fills the same ones). */
export async function selectedPath(pc: RTCPeerConnection): Promise<{ path: string; localCandidateType?: string; remoteCandidateType?: string }> {
  // Bounded: Firefox never settles a getStats() that a close() overtook.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const report = await Promise.race([
    Promise.resolve()
      .then(() => pc.getStats())
      .catch(() => undefined),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 2000))),
  ]).finally(() => clearTimeout(timer));
  if (!report) return { path: 'webrtc (no stats)' };
  const all = new Map<string, Record<string, unknown>>();
  report.forEach((v: Record<string, unknown>) => all.set(String(v['id']), v));
  let pair: Record<string, unknown> | undefined;
  for (const v of all.values()) {
    if (v['type'] === 'transport' && typeof v['selectedCandidatePairId'] === 'string') pair = all.get(v['selectedCandidatePairId']);
  }
  if (!pair) for (const v of all.values()) if (v['type'] === 'candidate-pair' && (v['selected'] === true || (v['nominated'] === true && v['state'] === 'succeeded'))) pair = v;
  if (!pair) return { path: 'webrtc (no selected pair)' };
  const local = all.get(String(pair['localCandidateId']));
  const remote = all.get(String(pair['remoteCandidateId']));
  const show = (c: Record<string, unknown> | undefined) =>
    c ? `${String(c['candidateType'] ?? '?')} ${String(c['protocol'] ?? 'udp')} ${String(c['address'] ?? c['ip'] ?? '?')}:${String(c['port'] ?? '?')}` : '?';
  const out: { path: string; localCandidateType?: string; remoteCandidateType?: string } = { path: `${show(local)} ⇄ ${show(remote)}` };
  if (typeof local?.['candidateType'] === 'string') out.localCandidateType = local['candidateType'];
  if (typeof remote?.['candidateType'] === 'string') out.remoteCandidateType = remote['candidateType'];
  return out;
}
