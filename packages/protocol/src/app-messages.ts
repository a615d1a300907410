/**
 * The application-message layer: each numbered wormhole phase carries one
 * UTF-8 JSON object. This module is its envelope (bytes ⇄ object, bounded)
 * and the text exchange of `wormhole send --text` / `wormhole receive`:
 *
 *   sender   → {"offer": {"message": TEXT}}
 *   receiver → {"answer": {"message_ack": "ok"}}
 *   either   → {"error": TEXT}                 (gives up)
 *
 * File and directory offers are in transfer/messages.ts; connect()'s
 * namespaced messages (`{"webrtc-v1": …}`, `{"mux-v1": …}`) in webrtc/.
 */
import { fromUtf8, utf8 } from './bytes.js';
import { WormholeError } from './errors.js';
import { JsonError, isJsonObject, parseJsonObject, type JsonObject } from './json.js';

/** Longest error text from the peer we keep. */
const MAX_ERROR_TEXT = 500;

/**
 * Parse one decrypted application message: UTF-8 JSON that must be an
 * object, within the default JSON bounds. Anything else is `RemoteProtocol`.
 *
 * @example
 * const msg = parseAppMessage(await w.nextMessage());
 */
export function parseAppMessage(bytes: Uint8Array): JsonObject {
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'peer sent a message that is not UTF-8 JSON', { cause });
  }
  try {
    return parseJsonObject(text);
  } catch (cause) {
    if (!(cause instanceof JsonError)) throw cause;
    if (cause.reason === 'not-object') throw new WormholeError('RemoteProtocol', 'peer sent a message that is not a JSON object');
    const why = cause.reason === 'syntax' ? '' : ` (${cause.message})`;
    throw new WormholeError('RemoteProtocol', `peer sent a message that is not UTF-8 JSON${why}`, { cause });
  }
}

/** The bytes of one application message. */
export function encodeAppMessage(message: JsonObject): Uint8Array {
  return utf8(JSON.stringify(message));
}

/** `{"offer": {"message": TEXT}}` */
export function textOffer(text: string): JsonObject {
  return { offer: { message: text } };
}

/** `{"answer": {"message_ack": "ok"}}` */
export function textAck(): JsonObject {
  return { answer: { message_ack: 'ok' } };
}

/** `{"error": TEXT}`: we give up on the exchange. */
export function appError(text: string): JsonObject {
  return { error: text };
}

/** The peer's `error` text, bounded; undefined if the message has none. */
export function appErrorText(message: JsonObject): string | undefined {
  return 'error' in message ? String(message['error']).slice(0, MAX_ERROR_TEXT) : undefined;
}

/** The text of a text offer; undefined for a file, directory or unknown offer. */
export function offeredText(message: JsonObject): string | undefined {
  const offer = message['offer'];
  const text = isJsonObject(offer) ? offer['message'] : undefined;
  return typeof text === 'string' ? text : undefined;
}

/** Whether an `answer` accepts our text (`message_ack` is `ok`). */
export function isTextAck(message: JsonObject): boolean {
  const answer = message['answer'];
  return isJsonObject(answer) && answer['message_ack'] === 'ok';
}
