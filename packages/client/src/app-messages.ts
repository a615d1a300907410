/**
 * The application-message layer over a wormhole: each numbered phase is one
 * JSON object (`@burrow/protocol` app-messages.ts), and the text exchange of
 * `wormhole send --text` / `wormhole receive`: the sender offers
 * `{"offer": {"message": TEXT}}`, the receiver answers
 * `{"answer": {"message_ack": "ok"}}`.
 */
import { WormholeError, appError, appErrorText, encodeAppMessage, isTextAck, offeredText, parseAppMessage, textAck, textOffer, type JsonObject } from '@burrow/protocol';
import type { CallOptions, Wormhole } from './wormhole.js';

export { parseAppMessage };

/** The most messages we skip (e.g. `transit` hints) while waiting for the one we need. */
const MAX_SKIPPED = 16;

/** Send one application message (a JSON object) to the peer. */
export function sendAppMessage(w: Wormhole, message: JsonObject): void {
  w.sendMessage(encodeAppMessage(message));
}

/** Wait for the next message that carries one of `keys`; an `error` from the peer rejects. */
export async function nextAppMessage(w: Wormhole, keys: readonly string[], options: CallOptions = {}): Promise<JsonObject> {
  for (let i = 0; i <= MAX_SKIPPED; i++) {
    const msg = parseAppMessage(await w.nextMessage(options));
    const error = appErrorText(msg);
    if (error !== undefined) throw new WormholeError('Rejected', `peer reported an error: ${error}`);
    if (keys.some((k) => k in msg)) return msg;
  }
  throw new WormholeError('RemoteProtocol', `peer sent ${MAX_SKIPPED} messages without ${keys.join('/')}`);
}

/** Send a text to the peer and wait until it acknowledges it. */
export async function sendText(w: Wormhole, text: string, options: CallOptions = {}): Promise<void> {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  sendAppMessage(w, textOffer(text));
  const msg = await nextAppMessage(w, ['answer'], options);
  if (!isTextAck(msg)) {
    throw new WormholeError('Rejected', `peer did not accept the text: ${JSON.stringify(msg['answer']).slice(0, 200)}`);
  }
}

/** Receive a text offer and acknowledge it. A file or directory offer is refused with an `error`. */
export async function receiveText(w: Wormhole, options: CallOptions = {}): Promise<string> {
  const msg = await nextAppMessage(w, ['offer'], options);
  const text = offeredText(msg);
  if (text === undefined) {
    sendAppMessage(w, appError('this receiver only accepts text messages'));
    throw new WormholeError('Rejected', 'peer offered a file or directory, but a text was expected', { blame: 'caller' });
  }
  sendAppMessage(w, textAck());
  return text;
}
