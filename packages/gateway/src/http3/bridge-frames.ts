/**
 * The framing between the Deno QUIC bridge (src/deno/quic-bridge.ts) and
 * the gateway, one Unix-socket connection per WebTransport session. Every
 * frame is the shared length prefix (@burrow/protocol/frames: 4-byte
 * big-endian length) around a 1-byte type and its payload:
 *
 *   bridge → gateway   hello  {"path": "/v1", "peer": "203.0.113.5:40000"}
 *                      stream (the client opened its bidirectional stream)
 *                      data   bytes the client wrote
 *                      end    the client closed its side of the stream
 *   gateway → bridge   data   bytes for the client
 *                      end    close our side of the stream
 *                      close  {"code": 503, "reason": "busy"}: close the session
 *
 * Either side closing the socket ends the session. Unknown types are ignored.
 */
import { parseJsonObject } from '@burrow/protocol';
import { encodeLengthPrefixed } from '@burrow/protocol/frames';

/** Bridge frame types (the first payload byte). */
export const BridgeFrame = { hello: 1, stream: 2, data: 3, end: 4, close: 5 } as const;

/** Largest frame the gateway accepts from the bridge (it sends data in pieces of at most 32 KiB). */
export const MAX_BRIDGE_FRAME = 64 * 1024 + 1;

/** A parsed frame from the bridge. */
export type BridgeInbound =
  | { readonly type: 'hello'; readonly path: string; readonly peer: string | undefined }
  | { readonly type: 'stream' }
  | { readonly type: 'data'; readonly bytes: Uint8Array }
  | { readonly type: 'end' }
  | { readonly type: 'unknown' };

/** One frame of `type` around `payload`. */
export function encodeBridgeFrame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = new Uint8Array(1 + payload.length);
  body[0] = type;
  body.set(payload, 1);
  return encodeLengthPrefixed(body);
}

/** A `close` frame carrying the session close code and reason. */
export function encodeBridgeClose(code: number | undefined, reason: string | undefined): Uint8Array {
  return encodeBridgeFrame(BridgeFrame.close, new TextEncoder().encode(JSON.stringify({ code, reason: (reason ?? '').slice(0, 100) })));
}

/** Parse one frame body from the bridge; a malformed hello throws (JsonError or TypeError). */
export function parseBridgeFrame(body: Uint8Array): BridgeInbound {
  switch (body[0]) {
    case BridgeFrame.hello: {
      const hello = parseJsonObject(new TextDecoder().decode(body.subarray(1)), { maxLength: 1024, maxDepth: 2 });
      const path = hello['path'];
      const peer = hello['peer'];
      if (typeof path !== 'string') throw new TypeError('bridge hello without a path');
      return { type: 'hello', path, peer: typeof peer === 'string' ? peer : undefined };
    }
    case BridgeFrame.stream:
      return { type: 'stream' };
    case BridgeFrame.data:
      return { type: 'data', bytes: body.subarray(1) };
    case BridgeFrame.end:
      return { type: 'end' };
    default:
      return { type: 'unknown' };
  }
}
