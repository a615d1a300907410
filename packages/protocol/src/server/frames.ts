/**
 * The mailbox server's edge: inbound client frames are parsed once, here,
 * with a size and depth bound; outbound frames are built here. No I/O.
 *
 * Wire facts (wormhole_mailbox_server/server_websocket.py, 0.4.1):
 * - Frames are JSON objects. The server parses text and binary frames alike
 *   (Python calls `json.loads` on the payload either way).
 * - Every outbound frame carries `server_tx`, seconds since the epoch as a
 *   float, taken just before sending.
 * - Unknown keys are ignored. Keys keep whatever JSON type the client sent
 *   until a handler needs them (an `ack` echoes `id` verbatim).
 */
import { fromUtf8 } from '../bytes.js';
import { DEFAULT_JSON_MAX_DEPTH, JsonError, parseJsonObject } from '../json.js';

/** A client frame that parsed as a JSON object. */
export type ClientFrame = Readonly<Record<string, unknown>>;

export type ParseResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly reason: ClientFrameRefusal };

/** Why a frame was refused; the error sent back reads `invalid frame (too large)` etc. */
export type ClientFrameRefusal = 'too-large' | 'not-utf8' | 'not-json' | 'not-object' | 'too-deep';

/** Deepest nesting accepted in a client frame (real clients send 2 levels). */
export const MAX_CLIENT_FRAME_DEPTH = DEFAULT_JSON_MAX_DEPTH;

/**
 * Most objects and arrays in one client frame (real clients send 2–3).
 * Parsing cost follows their number: 256 KiB of nested arrays parse ~20×
 * slower than a flat frame of the same size, which this bound prevents.
 */
export const MAX_CLIENT_FRAME_CONTAINERS = 64;

/**
 * Parse one inbound frame. Never throws: anything that is not a JSON object
 * of at most `maxBytes` bytes and {@link MAX_CLIENT_FRAME_DEPTH} levels
 * comes back as `{ ok: false, reason }`.
 *
 * @example
 *   parseClientFrame('{"type":"ping","ping":1}', 65536)
 *   // → { ok: true, frame: { type: 'ping', ping: 1 } }
 */
export function parseClientFrame(data: string | Uint8Array, maxBytes: number): ParseResult {
  let text: string;
  if (typeof data === 'string') {
    // A UTF-16 length over the limit is over it in UTF-8 too; under it we
    // trust the transport, which counted bytes before handing us the frame.
    if (data.length > maxBytes) return { ok: false, reason: 'too-large' };
    text = data;
  } else {
    if (data.byteLength > maxBytes) return { ok: false, reason: 'too-large' };
    try {
      text = fromUtf8(data);
    } catch {
      return { ok: false, reason: 'not-utf8' };
    }
  }
  try {
    return { ok: true, frame: parseJsonObject(text, { maxLength: maxBytes, maxDepth: MAX_CLIENT_FRAME_DEPTH, maxContainers: MAX_CLIENT_FRAME_CONTAINERS }) };
  } catch (err) {
    if (!(err instanceof JsonError)) throw err;
    return { ok: false, reason: REFUSALS[err.reason] };
  }
}

const REFUSALS: Record<JsonError['reason'], ClientFrameRefusal> = {
  type: 'not-json',
  size: 'too-large',
  depth: 'too-deep',
  syntax: 'not-json',
  'not-object': 'not-object',
};

/** Whether `frame` has its own key `name` (Python's `name in msg`). */
export function has(frame: ClientFrame, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(frame, name);
}

/** The value of an own key, or undefined (never reaches the prototype). */
export function get(frame: ClientFrame, name: string): unknown {
  return has(frame, name) ? frame[name] : undefined;
}

/** Server-to-client message types (server_websocket.py, "<-" lines). */
export type ServerFrame =
  | { readonly type: 'welcome'; readonly welcome: Readonly<Record<string, unknown>> }
  | { readonly type: 'ack'; readonly id: unknown }
  | { readonly type: 'pong'; readonly pong: unknown }
  | { readonly type: 'nameplates'; readonly nameplates: readonly { readonly id: string }[] }
  | { readonly type: 'allocated'; readonly nameplate: string }
  | { readonly type: 'claimed'; readonly mailbox: string }
  | { readonly type: 'released' }
  | {
      readonly type: 'message';
      readonly side: string;
      readonly phase: string;
      readonly body: string;
      readonly server_rx: number;
      readonly id: string | null;
    }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly error: string; readonly orig: unknown };

/**
 * Serialise a server frame, stamping `server_tx` (seconds) from `nowMs`.
 * Echoed client values (`ack.id`, `pong.pong`, `error.orig`) that cannot be
 * serialised (a caller-built frame nesting deep enough to exhaust the
 * stack; parsed frames are depth-bounded) are sent as null.
 */
export function encodeServerFrame(frame: ServerFrame, nowMs: number): string {
  // `id: undefined` (an ack for a message without id) must still be sent as
  // null: Python's msg.get("id") gives None, which json.dumps writes as null.
  const out: Record<string, unknown> = { ...frame, server_tx: nowMs / 1000 };
  if (frame.type === 'ack' && frame.id === undefined) out['id'] = null;
  try {
    return JSON.stringify(out);
  } catch {
    for (const echo of ['id', 'pong', 'orig']) if (echo in out) out[echo] = null;
    return JSON.stringify(out);
  }
}
