/**
 * mux-v1: many byte streams over one ordered, reliable message pipe (a
 * Transit connection, where every frame is one encrypted record, or an
 * in-memory pipe). Burrow's own extension; the WebRTC path does not use it
 * (there every stream is its own data channel, see the client's
 * `connection/webrtc`), but both share the stream semantics below.
 *
 * Frame = 1 type byte, then a 4-byte big-endian stream id, then the body:
 *
 *   0x00 DATA    id, bytes (1 … MUX_MAX_DATA)        payload of one stream
 *   0x01 OPEN    id                                   the sender opened stream id
 *   0x02 FIN     id                                   the sender will send no more on id
 *   0x03 RESET   id, UTF-8 reason (≤ 1 KiB)           the sender aborted its direction
 *   0x04 STOP    id, UTF-8 reason (≤ 1 KiB)           the receiver cancelled: stop sending
 *   0x05 CREDIT  id, u32 increment                    the receiver consumed bytes
 *   0x06 PING    id = 0, u32 nonce
 *   0x07 PONG    id = 0, u32 nonce
 *   0x08 GOAWAY  id = 0, UTF-8 reason                 the sender closes the whole pipe
 *
 * Stream ids: the leader opens odd ids (1, 3, 5, …), the follower even ones
 * (2, 4, …), so both may open at once without collision. Flow control is per
 * stream and per direction: a sender starts with {@link MUX_INITIAL_WINDOW}
 * bytes of credit and may not send DATA beyond what the receiver granted;
 * the receiver grants CREDIT as the application reads. Frames of unknown
 * type are ignored (forward compatibility); malformed known frames are a
 * protocol error.
 */
import { WormholeError } from './errors.js';
import { fromUtf8, utf8 } from './bytes.js';

export const MUX_HEADER = 5;
/** Largest DATA payload in one frame (64 KiB). */
export const MUX_MAX_DATA = 64 * 1024;
/** Credit each direction of a new stream starts with. */
export const MUX_INITIAL_WINDOW = 2 * 1024 * 1024;
/** Longest RESET/STOP/GOAWAY reason we send or accept, in bytes. */
export const MUX_MAX_REASON = 1024;

export type MuxFrame =
  | { readonly type: 'data'; readonly id: number; readonly data: Uint8Array }
  | { readonly type: 'open'; readonly id: number }
  | { readonly type: 'fin'; readonly id: number }
  | { readonly type: 'reset'; readonly id: number; readonly reason: string }
  | { readonly type: 'stop'; readonly id: number; readonly reason: string }
  | { readonly type: 'credit'; readonly id: number; readonly increment: number }
  | { readonly type: 'ping'; readonly nonce: number }
  | { readonly type: 'pong'; readonly nonce: number }
  | { readonly type: 'goaway'; readonly reason: string }
  | { readonly type: 'unknown'; readonly code: number };

const CODES = { data: 0, open: 1, fin: 2, reset: 3, stop: 4, credit: 5, ping: 6, pong: 7, goaway: 8 } as const;

function header(code: number, id: number, bodyLength: number): Uint8Array {
  const out = new Uint8Array(MUX_HEADER + bodyLength);
  out[0] = code;
  putU32(out, 1, id);
  return out;
}

/** Write `value` big-endian at `at`. */
function putU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) throw new RangeError(`stream id must be an integer in 1..2^32-1, got ${id}`);
}

function reasonBytes(reason: string): Uint8Array {
  let bytes = utf8(reason);
  if (bytes.length > MUX_MAX_REASON) bytes = utf8(reason.slice(0, MUX_MAX_REASON / 4));
  return bytes;
}

/**
 * Encode a DATA frame into `out` (room for `MUX_HEADER + data.length`
 * bytes): the same bytes {@link encodeMuxFrame} returns for it, in a buffer
 * the caller reuses. Returns the frame's length.
 */
export function encodeMuxDataInto(out: Uint8Array, id: number, data: Uint8Array): number {
  checkId(id);
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
  if (data.length < 1 || data.length > MUX_MAX_DATA) throw new RangeError(`data must be 1..${MUX_MAX_DATA} bytes, got ${data.length}`);
  if (out.length < MUX_HEADER + data.length) throw new RangeError('out has no room for the frame');
  out[0] = CODES.data;
  putU32(out, 1, id);
  out.set(data, MUX_HEADER);
  return MUX_HEADER + data.length;
}

/**
 * Encode one frame. DATA copies `data` behind the header.
 *
 * @example
 * pipe.write(encodeMuxFrame({ type: 'data', id: 1, data: chunk }));
 */
export function encodeMuxFrame(frame: Exclude<MuxFrame, { type: 'unknown' }>): Uint8Array {
  switch (frame.type) {
    case 'data': {
      const out = new Uint8Array(MUX_HEADER + (frame.data instanceof Uint8Array ? Math.min(frame.data.length, MUX_MAX_DATA) : 0));
      encodeMuxDataInto(out, frame.id, frame.data);
      return out;
    }
    case 'open':
    case 'fin':
      checkId(frame.id);
      return header(CODES[frame.type], frame.id, 0);
    case 'reset':
    case 'stop': {
      checkId(frame.id);
      const r = reasonBytes(frame.reason);
      const out = header(CODES[frame.type], frame.id, r.length);
      out.set(r, MUX_HEADER);
      return out;
    }
    case 'credit': {
      checkId(frame.id);
      if (!Number.isInteger(frame.increment) || frame.increment < 1 || frame.increment > 0xffffffff) {
        throw new RangeError(`credit increment must be an integer in 1..2^32-1, got ${frame.increment}`);
      }
      const out = header(CODES.credit, frame.id, 4);
      putU32(out, MUX_HEADER, frame.increment);
      return out;
    }
    case 'ping':
    case 'pong': {
      const out = header(CODES[frame.type], 0, 4);
      putU32(out, MUX_HEADER, frame.nonce >>> 0);
      return out;
    }
    case 'goaway': {
      const r = reasonBytes(frame.reason);
      const out = header(CODES.goaway, 0, r.length);
      out.set(r, MUX_HEADER);
      return out;
    }
  }
}

function bad(message: string): WormholeError {
  return new WormholeError('RemoteProtocol', `mux-v1: ${message}`);
}

/**
 * Parse one frame strictly. Unknown types come back as `{type: 'unknown'}`
 * (ignore them); a malformed known frame throws `RemoteProtocol`. DATA is a
 * view into `bytes` (no copy).
 */
export function decodeMuxFrame(bytes: Uint8Array): MuxFrame {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.length < MUX_HEADER) throw bad(`frame of ${bytes.length} bytes is shorter than its header`);
  const code = bytes[0]!;
  const id = u32(bytes, 1);
  const bodyLength = bytes.length - MUX_HEADER;
  // No closures or views made per frame: DATA is decoded once per 64 KiB on the bulk path.
  switch (code) {
    case CODES.data:
      needStream(code, id);
      if (bodyLength < 1 || bodyLength > MUX_MAX_DATA) throw bad(`DATA of ${bodyLength} bytes`);
      return { type: 'data', id, data: bytes.subarray(MUX_HEADER) };
    case CODES.open:
    case CODES.fin:
      needStream(code, id);
      if (bodyLength !== 0) throw bad(`${code === CODES.open ? 'OPEN' : 'FIN'} with a body`);
      return { type: code === CODES.open ? 'open' : 'fin', id };
    case CODES.reset:
      needStream(code, id);
      return { type: 'reset', id, reason: reasonOf(bytes) };
    case CODES.stop:
      needStream(code, id);
      return { type: 'stop', id, reason: reasonOf(bytes) };
    case CODES.credit: {
      needStream(code, id);
      if (bodyLength !== 4) throw bad('CREDIT body must be 4 bytes');
      const increment = u32(bytes, MUX_HEADER);
      if (increment === 0) throw bad('CREDIT of 0');
      return { type: 'credit', id, increment };
    }
    case CODES.ping:
    case CODES.pong:
      if (bodyLength !== 4) throw bad('PING/PONG body must be 4 bytes');
      return { type: code === CODES.ping ? 'ping' : 'pong', nonce: u32(bytes, MUX_HEADER) };
    case CODES.goaway:
      return { type: 'goaway', reason: reasonOf(bytes) };
    default:
      return { type: 'unknown', code };
  }
}

/** Big-endian u32 at `at`. */
function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function needStream(code: number, id: number): void {
  if (id === 0) throw bad(`frame type ${code} on stream 0`);
}

/** The UTF-8 reason of a RESET/STOP/GOAWAY frame. */
function reasonOf(bytes: Uint8Array): string {
  const length = bytes.length - MUX_HEADER;
  if (length > MUX_MAX_REASON) throw bad(`reason of ${length} bytes is too long`);
  try {
    return fromUtf8(bytes.subarray(MUX_HEADER));
  } catch {
    throw bad('reason is not UTF-8');
  }
}

/** Whether `id` was opened by the leader (odd) or the follower (even). */
export function muxStreamOpener(id: number): 'leader' | 'follower' {
  return id % 2 === 1 ? 'leader' : 'follower';
}
