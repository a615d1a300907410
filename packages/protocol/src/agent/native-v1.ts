/**
 * native-v1: agent-v1 over a browser's native messaging port instead of a
 * WebSocket, so an extension reaches the agent with no TCP port open. The
 * browser starts the host (`burrow agent native-host`) and talks to it over
 * its stdin/stdout: each message is a 32-bit little-endian length, then
 * that many bytes of UTF-8 JSON. Every WebSocket message of agent-v1
 * becomes one JSON object:
 *
 *   {"t": TEXT}                 a text message (the handshake)
 *   {"b": HEX}                  a binary message (an encrypted record)
 *   {"close": CODE, "reason": TEXT}   the host closes, with agent-v1's close code
 *
 * The handshake, keys and records are agent-v1's, unchanged; the origin is
 * the one the browser names when it starts the host (`chrome-extension://ID/`).
 */
import { fromHex, fromUtf8, toHex, utf8 } from '../bytes.js';
import { isJsonObject, parseJson, type JsonObject } from '../json.js';

/** The native messaging host's name (what `runtime.connectNative` asks for). */
export const NATIVE_HOST_NAME = 'dev.burrow.agent';
/** Largest native message accepted (bytes of JSON): a record in hex is far below it. */
export const MAX_NATIVE_MESSAGE = 1024 * 1024;

/** One agent-v1 WebSocket event, as native-v1 carries it. */
export type NativeFrame = { readonly type: 'text'; readonly text: string } | { readonly type: 'binary'; readonly bytes: Uint8Array } | { readonly type: 'close'; readonly code: number; readonly reason: string };

/** The JSON object for a frame. */
export function encodeNativeFrame(frame: NativeFrame): JsonObject {
  if (frame.type === 'text') return { t: frame.text };
  if (frame.type === 'binary') return { b: toHex(frame.bytes) };
  return { close: frame.code, reason: frame.reason.slice(0, 120) };
}

/** Read a JSON object as a frame; `undefined` for anything else (ignored). */
export function parseNativeFrame(value: unknown): NativeFrame | undefined {
  if (!isJsonObject(value)) return undefined;
  if (typeof value['t'] === 'string') return { type: 'text', text: value['t'] };
  if (typeof value['b'] === 'string' && /^(?:[0-9a-f]{2})*$/.test(value['b'])) return { type: 'binary', bytes: fromHex(value['b']) };
  if (typeof value['close'] === 'number') return { type: 'close', code: value['close'], reason: typeof value['reason'] === 'string' ? value['reason'].slice(0, 120) : '' };
  return undefined;
}

/** A native message on the wire: length (u32 little-endian) and JSON. */
export function encodeNativeMessage(value: JsonObject): Uint8Array {
  const body = utf8(JSON.stringify(value));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

/** Splits a byte stream into native messages; throws a RangeError on one longer than {@link MAX_NATIVE_MESSAGE}, a JsonError on one that is not bounded JSON. */
export class NativeMessageReader {
  #buffer = new Uint8Array(0);

  /** The complete messages in what arrived so far. */
  push(chunk: Uint8Array): unknown[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const out: unknown[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const length = new DataView(joined.buffer, joined.byteOffset + at, 4).getUint32(0, true);
      if (length > MAX_NATIVE_MESSAGE) throw new RangeError(`native message of ${length} bytes is too large`);
      if (joined.length - at - 4 < length) break;
      out.push(parseJson(fromUtf8(joined.subarray(at + 4, at + 4 + length)), { maxLength: MAX_NATIVE_MESSAGE, maxDepth: 4 }));
      at += 4 + length;
    }
    this.#buffer = joined.slice(at);
    return out;
  }
}
