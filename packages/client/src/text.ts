/**
 * Text transfer with the `wormhole` CLI's file-transfer protocol
 * (`wormhole send --text` / `wormhole receive`): the sender offers
 * `{"offer": {"message": TEXT}}`, the receiver answers
 * `{"answer": {"message_ack": "ok"}}`.
 */
import { WormholeError, fromUtf8, utf8 } from '@burrow/protocol';
import type { CallOptions, Wormhole } from './wormhole.js';

/** The most messages we skip (e.g. `transit` hints) while waiting for the one we need. */
const MAX_SKIPPED = 16;

/** Parse one application message as a JSON object; peers must send objects. */
export function parseAppMessage(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'peer sent a message that is not UTF-8 JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WormholeError('RemoteProtocol', 'peer sent a message that is not a JSON object');
  }
  return value as Record<string, unknown>;
}

export function sendAppMessage(w: Wormhole, message: Record<string, unknown>): void {
  w.sendMessage(utf8(JSON.stringify(message)));
}

/** Wait for the next message that carries one of `keys`; an `error` from the peer rejects. */
export async function nextAppMessage(w: Wormhole, keys: readonly string[], options: CallOptions = {}): Promise<Record<string, unknown>> {
  for (let i = 0; i <= MAX_SKIPPED; i++) {
    const msg = parseAppMessage(await w.nextMessage(options));
    if ('error' in msg) throw new WormholeError('Rejected', `peer reported an error: ${String(msg['error']).slice(0, 500)}`);
    if (keys.some((k) => k in msg)) return msg;
  }
  throw new WormholeError('RemoteProtocol', `peer sent ${MAX_SKIPPED} messages without ${keys.join('/')}`);
}

/** Send a text to the peer and wait until it acknowledges it. */
export async function sendText(w: Wormhole, text: string, options: CallOptions = {}): Promise<void> {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  sendAppMessage(w, { offer: { message: text } });
  const msg = await nextAppMessage(w, ['answer'], options);
  const answer = msg['answer'] as Record<string, unknown> | undefined;
  if (answer?.['message_ack'] !== 'ok') {
    throw new WormholeError('Rejected', `peer did not accept the text: ${JSON.stringify(answer).slice(0, 200)}`);
  }
}

/** Receive a text offer and acknowledge it. A file or directory offer is refused with an `error`. */
export async function receiveText(w: Wormhole, options: CallOptions = {}): Promise<string> {
  const msg = await nextAppMessage(w, ['offer'], options);
  const offer = msg['offer'];
  const text = typeof offer === 'object' && offer !== null ? (offer as Record<string, unknown>)['message'] : undefined;
  if (typeof text !== 'string') {
    sendAppMessage(w, { error: 'this receiver only accepts text messages' });
    throw new WormholeError('Rejected', 'peer offered a file or directory, but a text was expected', { blame: 'caller' });
  }
  sendAppMessage(w, { answer: { message_ack: 'ok' } });
  return text;
}
