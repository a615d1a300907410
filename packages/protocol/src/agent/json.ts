/**
 * The agent protocols' one way to read JSON from a peer: protocol's bounded
 * parser, its refusals turned into `RemoteProtocol` with a sentence that
 * names the protocol and what was refused.
 */
import { fromUtf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { JsonError, parseJsonObject, type JsonBounds, type JsonObject } from '../json.js';

const PHRASES: Readonly<Record<JsonError['reason'], string>> = {
  type: 'is not text',
  size: 'is too large',
  depth: 'is nested too deeply',
  syntax: 'is not JSON',
  'not-object': 'is not an object',
};

/**
 * Parse a JSON object sent by the peer; anything else throws
 * `RemoteProtocol` ("`protocol`: `subject` is not JSON", …).
 *
 * @example
 * const m = parsePeerObject(text, { maxLength: 4096 }, 'agent-v1', 'handshake message');
 */
export function parsePeerObject(text: string, bounds: JsonBounds, protocol: string, subject: string): JsonObject {
  try {
    return parseJsonObject(text, bounds);
  } catch (cause) {
    const phrase = cause instanceof JsonError ? PHRASES[cause.reason] : 'is not JSON';
    throw new WormholeError('RemoteProtocol', `${protocol}: ${subject} ${phrase}`, { cause });
  }
}

/** Like {@link parsePeerObject}, for UTF-8 bytes (invalid UTF-8 is "not JSON" too). */
export function parsePeerBytes(bytes: Uint8Array, bounds: JsonBounds, protocol: string, subject: string): JsonObject {
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', `${protocol}: ${subject} ${PHRASES.syntax}`, { cause });
  }
  return parsePeerObject(text, bounds, protocol, subject);
}
