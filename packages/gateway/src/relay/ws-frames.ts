/**
 * RFC 6455 frames for the relay's data phase, without I/O: a streaming
 * parser and the encoder for what the server sends.
 *
 * The parser is built for a byte pipe at wire speed. It keeps no payload:
 * each frame's payload is unmasked in place in the chunk it arrived in and
 * handed on as a view of that chunk (a frame split over reads arrives in
 * pieces), so there is no allocation or copy per frame. Only headers
 * (≤ 14 bytes) and control payloads (≤ 125 bytes) that straddle chunks are
 * gathered into small buffers of its own.
 *
 * It checks what a server must: client frames masked, no RSV bits (no
 * extension is ever negotiated), known opcodes, control frames final and
 * ≤ 125 bytes, continuations only inside a fragmented message, a new message
 * only outside one, close codes and UTF-8 close reasons, and a cap on a
 * data frame's length. Text payloads are passed on unchecked (the relay
 * refuses text). After a close frame or an error it reads nothing more.
 *
 * @example
 * const parser = new FrameParser({ data: (bytes) => forward(bytes), ping: (p) => send(encodeFrame(OPCODE.pong, p)), … });
 * parser.push(chunk); // any split, any number of frames
 */

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** Close codes (RFC 6455 §7.4.1) the relay uses. */
export const CLOSE_CODE = {
  normal: 1000,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  tooBig: 1009,
} as const;

/** What the parser reports. Views passed in are valid until the handler returns (they are the caller's chunk, or the parser's own buffer). */
export interface FrameHandlers {
  /** Payload bytes of a text or binary message, unmasked; a frame may come in several pieces, empty pieces are not reported. */
  data(payload: Uint8Array, text: boolean): void;
  /** A ping: answer with a pong carrying `payload`. */
  ping(payload: Uint8Array): void;
  pong(payload: Uint8Array): void;
  /** The peer's close frame (`code` undefined when it carried none). Nothing more is parsed. */
  close(code: number | undefined, reason: string): void;
  /** The peer broke RFC 6455 or a cap: close with `code`. Nothing more is parsed. */
  error(code: number, reason: string): void;
}

/** XOR `data` in place with `mask` (4 bytes; `mask[0]` applies to `data[0]`). */
export type Unmask = (data: Uint8Array, mask: Uint8Array) => void;

export interface FrameParserOptions {
  /** Largest data frame payload (bytes); a longer one is an error 1009. */
  readonly maxFrameBytes: number;
  /** Whether frames must be masked (a server reads masked client frames; default true). */
  readonly masked?: boolean;
  /** A faster unmask (e.g. native); default {@link unmaskInPlace}. */
  readonly unmask?: Unmask;
}

/** Largest control frame payload. */
const MAX_CONTROL = 125;

/** XOR in 32-bit words where the bytes allow it (≈7× a byte loop); works on either endianness. */
export function unmaskInPlace(data: Uint8Array, mask: Uint8Array): void {
  const n = data.length;
  let i = 0;
  for (; i < n && ((data.byteOffset + i) & 3) !== 0; i++) data[i]! ^= mask[i & 3]!;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const rotated = new Uint8Array(4);
    for (let k = 0; k < 4; k++) rotated[k] = mask[(i + k) & 3]!;
    const word = new Uint32Array(rotated.buffer)[0]!;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words << 2;
  }
  for (; i < n; i++) data[i]! ^= mask[i & 3]!;
}

/** Whether a close frame may carry `code` (RFC 6455 §7.4; 1004–1006 and 1015 are never sent). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

type State = 'head' | 'payload' | 'done';

/** A streaming parser of client frames; see the module comment. */
export class FrameParser {
  readonly #handlers: FrameHandlers;
  readonly #max: number;
  readonly #masked: boolean;
  readonly #unmask: Unmask;
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  #state: State = 'head';
  /** The current frame: opcode (continuations resolved to their message's), control or not, bytes left. */
  #opcode = 0;
  #control = false;
  #remaining = 0;
  /** Mask for the next payload byte (rotated as bytes are consumed). */
  readonly #mask = new Uint8Array(4);
  #frameMasked = false;
  /** Opcode of the fragmented message in progress, 0 when none. */
  #message = 0;
  readonly #controlBuf = new Uint8Array(MAX_CONTROL);
  #controlLen = 0;

  constructor(handlers: FrameHandlers, options: FrameParserOptions) {
    if (!(options.maxFrameBytes >= 0)) throw new RangeError('options.maxFrameBytes must be a non-negative number');
    this.#handlers = handlers;
    this.#max = options.maxFrameBytes;
    this.#masked = options.masked ?? true;
    this.#unmask = options.unmask ?? unmaskInPlace;
  }

  /** Whether a close frame or an error ended parsing. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** Stop parsing (the caller is closing); later input is ignored. */
  stop(): void {
    this.#state = 'done';
  }

  /** Parse `chunk` (unmasked in place: it must be the caller's to change). */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (this.#state !== 'done' && (i < chunk.length || (this.#state === 'payload' && this.#remaining === 0))) {
      i = this.#state === 'head' ? this.#readHead(chunk, i) : this.#readPayload(chunk, i);
    }
  }

  #readHead(chunk: Uint8Array, i: number): number {
    const h = this.#head;
    for (;;) {
      const need = this.#headNeeded();
      while (this.#headLen < need && i < chunk.length) h[this.#headLen++] = chunk[i++]!;
      if (this.#headLen < need) return i;
      if (this.#headLen === 2 && !this.#checkFirstBytes()) return i;
      if (this.#headLen === this.#headNeeded()) break;
    }
    this.#headLen = 0;
    this.#startFrame();
    return i;
  }

  #headNeeded(): number {
    if (this.#headLen < 2) return 2;
    const b1 = this.#head[1]!;
    const len7 = b1 & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  }

  /** Checks that need only the first two bytes (fail before waiting for the rest). */
  #checkFirstBytes(): boolean {
    const b0 = this.#head[0]!;
    const b1 = this.#head[1]!;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (b0 & 0x70) return this.#fail(CLOSE_CODE.protocolError, 'RSV bits set');
    if (((b1 & 0x80) !== 0) !== this.#masked) return this.#fail(CLOSE_CODE.protocolError, this.#masked ? 'unmasked frame' : 'masked frame');
    if (opcode >= 8) {
      if (opcode > OPCODE.pong) return this.#fail(CLOSE_CODE.protocolError, `unknown opcode ${opcode}`);
      if (!fin) return this.#fail(CLOSE_CODE.protocolError, 'fragmented control frame');
      if ((b1 & 0x7f) > MAX_CONTROL) return this.#fail(CLOSE_CODE.protocolError, 'control frame too long');
    } else if (opcode > OPCODE.binary) {
      return this.#fail(CLOSE_CODE.protocolError, `unknown opcode ${opcode}`);
    } else if (opcode === OPCODE.continuation && this.#message === 0) {
      return this.#fail(CLOSE_CODE.protocolError, 'continuation outside a message');
    } else if (opcode !== OPCODE.continuation && this.#message !== 0) {
      return this.#fail(CLOSE_CODE.protocolError, 'new message inside a fragmented one');
    }
    return true;
  }

  #startFrame(): void {
    const h = this.#head;
    const fin = (h[0]! & 0x80) !== 0;
    const opcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = (h[2]! << 8) | h[3]!;
      at = 4;
    } else if (len7 === 127) {
      const high = ((h[2]! << 24) | (h[3]! << 16) | (h[4]! << 8) | h[5]!) >>> 0;
      const low = ((h[6]! << 24) | (h[7]! << 16) | (h[8]! << 8) | h[9]!) >>> 0;
      if (high >= 0x80000000) return void this.#fail(CLOSE_CODE.protocolError, 'payload length has its top bit set');
      if (high > 0x1fffff) return void this.#fail(CLOSE_CODE.tooBig, 'payload length over 2^53 - 1');
      length = high * 0x100000000 + low;
      at = 10;
    }
    this.#frameMasked = (h[1]! & 0x80) !== 0;
    if (this.#frameMasked) this.#mask.set(h.subarray(at, at + 4));
    this.#control = opcode >= 8;
    if (this.#control) {
      this.#opcode = opcode;
      this.#controlLen = 0;
    } else {
      if (length > this.#max) return void this.#fail(CLOSE_CODE.tooBig, `frame of ${length} bytes over the cap of ${this.#max}`);
      this.#opcode = opcode === OPCODE.continuation ? this.#message : opcode;
      this.#message = fin ? 0 : this.#opcode;
    }
    this.#remaining = length;
    this.#state = 'payload';
  }

  #readPayload(chunk: Uint8Array, i: number): number {
    const n = Math.min(this.#remaining, chunk.length - i);
    if (n > 0) {
      const piece = chunk.subarray(i, i + n);
      if (this.#frameMasked) this.#unmaskPiece(piece);
      this.#remaining -= n;
      if (this.#control) {
        this.#controlBuf.set(piece, this.#controlLen);
        this.#controlLen += n;
      } else {
        this.#handlers.data(piece, this.#opcode === OPCODE.text);
      }
    }
    if (this.#remaining === 0 && this.#state === 'payload') {
      this.#state = 'head';
      if (this.#control) this.#endControl();
    }
    return i + n;
  }

  #unmaskPiece(piece: Uint8Array): void {
    const m = this.#mask;
    this.#unmask(piece, m);
    const k = piece.length & 3;
    if (k !== 0) {
      const r = [m[0]!, m[1]!, m[2]!, m[3]!];
      for (let j = 0; j < 4; j++) m[j] = r[(j + k) & 3]!;
    }
  }

  #endControl(): void {
    const payload = this.#controlBuf.subarray(0, this.#controlLen);
    switch (this.#opcode) {
      case OPCODE.ping:
        return this.#handlers.ping(payload);
      case OPCODE.pong:
        return this.#handlers.pong(payload);
      default:
        return this.#closeFrame(payload);
    }
  }

  #closeFrame(payload: Uint8Array): void {
    if (payload.length === 0) {
      this.#state = 'done';
      return this.#handlers.close(undefined, '');
    }
    if (payload.length === 1) return void this.#fail(CLOSE_CODE.protocolError, 'close frame of one byte');
    const code = (payload[0]! << 8) | payload[1]!;
    if (!isValidCloseCode(code)) return void this.#fail(CLOSE_CODE.protocolError, `invalid close code ${code}`);
    let reason: string;
    try {
      reason = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(2));
    } catch {
      return void this.#fail(CLOSE_CODE.invalidPayload, 'close reason is not UTF-8');
    }
    this.#state = 'done';
    this.#handlers.close(code, reason);
  }

  #fail(code: number, reason: string): false {
    this.#state = 'done';
    this.#handlers.error(code, reason);
    return false;
  }
}

/** The header of a final frame of `length` payload bytes, masked with `mask` if given (a client's; a server sends none). */
export function frameHeader(opcode: number, length: number, mask?: Uint8Array): Uint8Array {
  const ext = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const h = new Uint8Array(2 + ext + (mask ? 4 : 0));
  h[0] = 0x80 | opcode;
  h[1] = (mask ? 0x80 : 0) | (ext === 0 ? length : ext === 2 ? 126 : 127);
  if (ext === 2) {
    h[2] = length >>> 8;
    h[3] = length & 0xff;
  } else if (ext === 8) {
    const high = Math.floor(length / 0x100000000);
    const view = new DataView(h.buffer);
    view.setUint32(2, high);
    view.setUint32(6, length >>> 0);
  }
  if (mask) h.set(mask, 2 + ext);
  return h;
}

/** A whole final frame (header and payload in one buffer; masked with `mask` if given). For small payloads: larger ones go out as header + payload without a copy. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  const header = frameHeader(opcode, payload.length, mask);
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header);
  frame.set(payload, header.length);
  if (mask) unmaskInPlace(frame.subarray(header.length), mask);
  return frame;
}

/** A close frame's payload: `code` and a reason cut to fit 125 bytes. */
export function closePayload(code: number, reason = ''): Uint8Array {
  const text = new TextEncoder().encode(reason);
  let end = Math.min(text.length, MAX_CONTROL - 2);
  while (end > 0 && end < text.length && (text[end]! & 0xc0) === 0x80) end--; // never cut inside a character
  const payload = new Uint8Array(2 + end);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, end), 2);
  return payload;
}
