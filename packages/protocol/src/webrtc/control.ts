/**
 * webrtc-v1 text messages on the data channels. Binary messages on a
 * stream channel are payload; text messages are JSON control, parsed here
 * with a size bound. Unknown or malformed text parses as `undefined` and is
 * ignored (never thrown on).
 *
 * The control channel (`burrow/control`, opened by the leader):
 *
 *   {"confirm": HEX}   the PAKE confirmation MAC (confirm.ts), 32 bytes
 *   {"ping": N}        answered with {"pong": N}; for the RTT
 *   {"bye": REASON}    a clean close
 *
 * A stream channel (`burrow/stream`, one per stream):
 *
 *   {"credit": N}      the reader grants N more bytes
 *   {"fin": true}      the writer half-closes
 *   {"reset": REASON}  the writer aborts
 *   {"stop": REASON}   the reader cancels
 */
import { JsonError, parseJsonObject, type JsonObject } from '../json.js';

/** The label of the one control channel. */
export const CONTROL_LABEL = 'burrow/control';
/** The label of every stream channel. */
export const STREAM_LABEL = 'burrow/stream';

/** Longest control text we parse. */
export const MAX_CONTROL_TEXT = 4096;
const MAX_BYE_REASON = 256;
const MAX_STREAM_REASON = 1024;

export type ControlMessage =
  | { readonly type: 'confirm'; readonly mac: string }
  | { readonly type: 'ping'; readonly n: number }
  | { readonly type: 'pong'; readonly n: number }
  | { readonly type: 'bye'; readonly reason: string };

/** Flow control and ends of one stream (the same meaning as the mux-v1 frames). */
export type ChannelControl =
  | { readonly type: 'fin' }
  | { readonly type: 'reset'; readonly reason: string }
  | { readonly type: 'stop'; readonly reason: string }
  | { readonly type: 'credit'; readonly increment: number };

/** The object in a control text, or undefined if it is not a bounded JSON object. */
function controlObject(data: unknown): JsonObject | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    return parseJsonObject(data, { maxLength: MAX_CONTROL_TEXT });
  } catch (err) {
    if (err instanceof JsonError) return undefined;
    throw err;
  }
}

/** Parse a message event's data on the control channel. */
export function parseControlMessage(data: unknown): ControlMessage | undefined {
  const o = controlObject(data);
  if (!o) return undefined;
  if (typeof o['confirm'] === 'string' && /^[0-9a-f]{64}$/.test(o['confirm'])) return { type: 'confirm', mac: o['confirm'] };
  if (typeof o['ping'] === 'number') return { type: 'ping', n: o['ping'] };
  if (typeof o['pong'] === 'number') return { type: 'pong', n: o['pong'] };
  if (typeof o['bye'] === 'string') return { type: 'bye', reason: o['bye'].slice(0, MAX_BYE_REASON) };
  return undefined;
}

/** The text of a control-channel message. */
export function encodeControlMessage(message: ControlMessage): string {
  switch (message.type) {
    case 'confirm':
      return JSON.stringify({ confirm: message.mac });
    case 'ping':
      return JSON.stringify({ ping: message.n });
    case 'pong':
      return JSON.stringify({ pong: message.n });
    case 'bye':
      return JSON.stringify({ bye: message.reason });
  }
}

/** Parse a text message on a stream channel. */
export function parseChannelControl(text: string): ChannelControl | undefined {
  const o = controlObject(text);
  if (!o) return undefined;
  const credit = o['credit'];
  if (typeof credit === 'number' && Number.isSafeInteger(credit) && credit > 0) return { type: 'credit', increment: credit };
  if (o['fin'] === true) return { type: 'fin' };
  if (typeof o['reset'] === 'string') return { type: 'reset', reason: o['reset'].slice(0, MAX_STREAM_REASON) };
  if (typeof o['stop'] === 'string') return { type: 'stop', reason: o['stop'].slice(0, MAX_STREAM_REASON) };
  return undefined;
}

/** The text of a stream-channel control message. */
export function encodeChannelControl(c: ChannelControl): string {
  switch (c.type) {
    case 'credit':
      return JSON.stringify({ credit: c.increment });
    case 'fin':
      return JSON.stringify({ fin: true });
    case 'reset':
      return JSON.stringify({ reset: c.reason });
    case 'stop':
      return JSON.stringify({ stop: c.reason });
  }
}
