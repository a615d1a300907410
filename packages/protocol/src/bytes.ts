/**
 * Byte helpers shared by the protocol package. No Node `Buffer`, no platform
 * globals beyond TextEncoder/TextDecoder (present in every supported runtime).
 */

// TextEncoder/TextDecoder exist in every runtime we support, but the
// protocol package compiles without DOM types, so describe the bit we use and
// create them on first use (nothing touches a global at import).
interface TextCodecs {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}
let codecs: { encode(text: string): Uint8Array; decode(bytes: Uint8Array): string } | undefined;
function textCodecs() {
  if (!codecs) {
    const g = globalThis as unknown as TextCodecs;
    const encoder = new g.TextEncoder();
    const decoder = new g.TextDecoder('utf-8', { fatal: true });
    codecs = { encode: (t) => encoder.encode(t), decode: (b) => decoder.decode(b) };
  }
  return codecs;
}

/** Throws a TypeError naming `name` unless `value` is a Uint8Array (of `length`, if given). */
export function abytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/**
 * ASCII text as bytes, without a TextEncoder: safe for module-level
 * constants (nothing platform-specific runs at import). Throws a RangeError
 * on a character above U+007F.
 */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`ascii(): character ${i} is not ASCII`);
    out[i] = c;
  }
  return out;
}

/** UTF-8 encode. */
export function utf8(text: string): Uint8Array {
  return textCodecs().encode(text);
}

/** Strict UTF-8 decode: invalid sequences throw a TypeError instead of becoming U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return textCodecs().decode(bytes);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex, as Python's `hexlify` produces it. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parse hex (either case). Throws a TypeError on odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('hex must be a string');
  if (!HEX_RE.test(hex)) throw new TypeError('hex must be an even-length string of hex digits');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Bytewise comparison (like Python's `bytes` ordering): negative, 0 or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Constant-time equality for equal-length secrets; false on length mismatch. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (RFC 4648 §4), without `btoa` (protocol has no platform globals). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    out += BASE64[a >> 2]! + BASE64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    out += b === undefined ? '=' : BASE64[((b & 15) << 2) | ((c ?? 0) >> 6)]!;
    out += c === undefined ? '=' : BASE64[c & 63]!;
  }
  return out;
}
