/**
 * A data channel as a stream wire (webrtc-v1 streams). On a stream channel,
 * binary messages are payload (≤ 64 KiB each) and text messages are JSON
 * control (`@burrow/protocol/webrtc` control.ts); unknown text is ignored.
 *
 * Sending follows `bufferedAmount`: above the high watermark (256 KiB) the
 * writer waits until it falls to the low watermark (64 KiB), told by
 * `bufferedamountlow` or, for stacks that never fire it, by polling.
 */
import { WormholeError } from '@burrow/protocol';
import { encodeChannelControl } from '@burrow/protocol/webrtc';
import type { StreamWire } from '../stream.js';

export interface Watermarks {
  /** Pause writes while `bufferedAmount` is above this (default 256 KiB). */
  readonly high: number;
  /** Resume when it has fallen to this (default 64 KiB). */
  readonly low: number;
  /** Poll `bufferedAmount` this often while waiting (default 5 ms). */
  readonly pollMs: number;
}

/**
 * Chromium's data channels ran at about half speed in most connections with
 * 1 MiB / 256 KiB here (raw channels too), and at full speed in nearly all
 * with 256 KiB / 64 KiB; node-datachannel is as fast with either.
 */
export const DEFAULT_WATERMARKS: Watermarks = { high: 256 * 1024, low: 64 * 1024, pollMs: 5 };
/** Largest message we send on a data channel. */
export const MAX_CHUNK = 64 * 1024;

/** Wait until `channel.bufferedAmount <= low` (or the channel is no longer open). */
export function drained(channel: RTCDataChannel, marks: Watermarks): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const check = () => {
      if (channel.readyState !== 'open') {
        done();
        reject(new WormholeError('Closed', `data channel ${channel.label} is ${channel.readyState}`));
      } else if (channel.bufferedAmount <= marks.low) {
        done();
        resolve();
      }
    };
    const done = () => {
      clearInterval(timer);
      channel.removeEventListener('bufferedamountlow', check);
      channel.removeEventListener('close', check);
    };
    channel.addEventListener('bufferedamountlow', check);
    channel.addEventListener('close', check);
    timer = setInterval(check, marks.pollMs);
    check();
  });
}

/** The wire for one stream channel. */
export function channelWire(channel: RTCDataChannel, marks: Watermarks, maxMessageSize: number): StreamWire {
  channel.bufferedAmountLowThreshold = marks.low;
  const maxChunk = Math.max(1024, Math.min(MAX_CHUNK, maxMessageSize || MAX_CHUNK));
  const send = (data: string | Uint8Array) => {
    if (channel.readyState !== 'open') throw new WormholeError('Closed', `data channel is ${channel.readyState}`);
    channel.send(data as Uint8Array<ArrayBuffer>);
  };
  return {
    maxChunk,
    sendData: (chunk) => send(chunk),
    sendControl: (c) => send(encodeChannelControl(c)),
    ready: () => (channel.bufferedAmount > marks.high ? drained(channel, marks) : undefined),
    release: (lastByPeer) => {
      if (!lastByPeer) return; // the peer closes once it has read our last message
      try {
        channel.close();
      } catch {
        // already closed
      }
    },
  };
}

/** Bytes of a binary message event (`binaryType` is `arraybuffer`; a view is accepted too). */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
