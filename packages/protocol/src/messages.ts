/**
 * Mailbox server protocol (magic-wormhole "client protocol", server 0.4.x).
 *
 * Frames are JSON text. Every client message carries a random `id`; the
 * server acks each with `{type: "ack", id}` and echoes every `add` back to all
 * subscribers of the mailbox as a `message`, including the sender. Unknown
 * message types and unknown keys are ignored, never thrown on, so newer
 * servers stay compatible.
 */
import { WormholeError } from './errors.js';
import { JsonError, parseJsonObject } from './json.js';

/** Largest server frame we accept (characters). The Python server has no
 * limit; real frames are a few hundred bytes, file offers a few KiB. */
export const MAX_SERVER_FRAME = 1 << 20;

export interface Welcome {
  readonly motd?: string;
  readonly error?: string;
  readonly [key: string]: unknown;
}

export type ServerMessage =
  | { readonly type: 'welcome'; readonly welcome: Welcome }
  | { readonly type: 'ack'; readonly id?: string }
  | { readonly type: 'pong'; readonly pong: unknown }
  | { readonly type: 'nameplates'; readonly nameplates: readonly string[] }
  | { readonly type: 'allocated'; readonly nameplate: string }
  | { readonly type: 'claimed'; readonly mailbox: string }
  | { readonly type: 'released' }
  | { readonly type: 'message'; readonly side: string; readonly phase: string; readonly body: string; readonly id?: string }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly error: string; readonly orig?: unknown }
  /** A message type this client does not know: ignore it. */
  | { readonly type: 'unknown'; readonly original: string };

export type ClientMessage =
  | { readonly type: 'bind'; readonly appid: string; readonly side: string; readonly client_version: readonly [string, string] }
  | { readonly type: 'list' }
  | { readonly type: 'allocate' }
  | { readonly type: 'claim'; readonly nameplate: string }
  | { readonly type: 'release'; readonly nameplate?: string }
  | { readonly type: 'open'; readonly mailbox: string }
  | { readonly type: 'add'; readonly phase: string; readonly body: string }
  | { readonly type: 'close'; readonly mailbox?: string; readonly mood?: Mood }
  | { readonly type: 'ping'; readonly ping: number };

/** How a side felt when it closed the mailbox (reported to the server). */
export type Mood = 'happy' | 'lonely' | 'scary' | 'errory' | 'unwelcome';

function bad(message: string): WormholeError {
  return new WormholeError('ServerProtocol', `mailbox server sent ${message}`);
}

function str(obj: Record<string, unknown>, key: string, type: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw bad(`a '${type}' message without a string '${key}'`);
  if (v.length > 4096 && key !== 'body') throw bad(`a '${type}' message with an oversized '${key}'`);
  return v;
}

function optStr(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Parse one server frame. Throws a `WormholeError('ServerProtocol')` for
 * frames that are not JSON objects, are too large, or lack a required field
 * of a known type; returns `{type: 'unknown'}` for unknown types.
 */
export function parseServerMessage(frame: string): ServerMessage {
  if (typeof frame !== 'string') throw bad('a binary frame (expected JSON text)');
  if (frame.length > MAX_SERVER_FRAME) throw bad(`a frame of ${frame.length} characters (limit ${MAX_SERVER_FRAME})`);
  let m: Record<string, unknown>;
  try {
    m = parseJsonObject(frame, { maxLength: MAX_SERVER_FRAME });
  } catch (cause) {
    if (!(cause instanceof JsonError)) throw cause;
    if (cause.reason === 'not-object') throw bad('a frame that is not a JSON object');
    if (cause.reason === 'syntax') throw new WormholeError('ServerProtocol', 'mailbox server sent a frame that is not JSON', { cause: cause.cause });
    throw new WormholeError('ServerProtocol', `mailbox server sent ${cause.message}`, { cause });
  }
  const type = m['type'];
  if (typeof type !== 'string') throw bad('a frame without a string "type"');
  switch (type) {
    case 'welcome': {
      const w = m['welcome'];
      if (typeof w !== 'object' || w === null || Array.isArray(w)) throw bad("a 'welcome' without a 'welcome' object");
      const { motd: rawMotd, error: rawError, ...rest } = w as Record<string, unknown>;
      // Python treats any `error` key as a refusal, whatever its type: keep it, as text.
      const error = rawError === undefined ? undefined : (typeof rawError === 'string' ? rawError : JSON.stringify(rawError)).slice(0, 1000);
      const motd = typeof rawMotd === 'string' ? rawMotd.slice(0, 4096) : undefined;
      return { type, welcome: { ...rest, ...(motd === undefined ? {} : { motd }), ...(error === undefined ? {} : { error }) } };
    }
    case 'ack': {
      const id = optStr(m, 'id');
      return id === undefined ? { type } : { type, id };
    }
    case 'pong':
      return { type, pong: m['pong'] };
    case 'nameplates': {
      const list = m['nameplates'];
      if (!Array.isArray(list)) throw bad("a 'nameplates' message without a list");
      const ids: string[] = [];
      for (const entry of list) {
        if (typeof entry === 'object' && entry !== null && typeof (entry as Record<string, unknown>)['id'] === 'string') {
          ids.push((entry as Record<string, string>)['id']!);
        }
      }
      return { type, nameplates: ids };
    }
    case 'allocated':
      return { type, nameplate: str(m, 'nameplate', type) };
    case 'claimed':
      return { type, mailbox: str(m, 'mailbox', type) };
    case 'released':
    case 'closed':
      return { type };
    case 'message': {
      const id = optStr(m, 'id');
      const msg = { type, side: str(m, 'side', type), phase: str(m, 'phase', type), body: str(m, 'body', type) } as const;
      return id === undefined ? msg : { ...msg, id };
    }
    case 'error': {
      const error = typeof m['error'] === 'string' ? (m['error'] as string) : JSON.stringify(m['error'] ?? null);
      return { type, error: error.slice(0, 1000), orig: m['orig'] };
    }
    default:
      return { type: 'unknown', original: type.slice(0, 100) };
  }
}

/** Serialise a client message with its `id` (Python uses 2 random bytes in hex). */
export function encodeClientMessage(message: ClientMessage, id: string): string {
  return JSON.stringify({ ...message, id });
}
