/**
 * Transit v1 secrets (`wormhole/transit.py`): everything is
 * `HKDF(transitKey, 32, info)` for a fixed info string.
 *
 * Connection flow, per candidate connection:
 *   via a relay, both sides first send `please relay TOKEN for side SIDE\n`
 *   and wait for `ok\n`;
 *   sender → receiver: `transit sender TXID ready\n\n`;
 *   receiver → sender: `transit receiver RXID ready\n\n`;
 *   the sender picks one connection and sends `go\n` on it (`nevermind\n`
 *   on the others); then records flow (see `records.ts`).
 */

import { abytes, ascii, toHex, utf8 } from '../bytes.js';
import { deriveKey } from '../kdf.js';
import { KEY_LENGTH, type RecordKey, type TransitKey } from '../keys.js';
import { relayLine } from './relay-handshake.js';

/** Sent by the sender on the connection it keeps. */
export const TRANSIT_GO: Uint8Array = ascii('go\n');
/** Sent by the sender on connections it drops. */
export const TRANSIT_NEVERMIND: Uint8Array = ascii('nevermind\n');
/** The relay's answer once both sides of a token are connected. */
export { RELAY_OK } from './relay-handshake.js';

function subkey(key: TransitKey, info: string): Uint8Array {
  abytes(key, 'transit key', KEY_LENGTH);
  return deriveKey(key, info, 32);
}

/**
 * `transit sender <hex(HKDF(tk, "transit_sender"))> ready\n\n`, as ASCII bytes.
 *
 * @example
 * socket.write(senderHandshake(tk));
 */
export function senderHandshake(key: TransitKey): Uint8Array {
  return utf8(`transit sender ${toHex(subkey(key, 'transit_sender'))} ready\n\n`);
}

/**
 * `transit receiver <hex(HKDF(tk, "transit_receiver"))> ready\n\n`, as ASCII bytes.
 *
 * @example
 * socket.write(receiverHandshake(tk));
 */
export function receiverHandshake(key: TransitKey): Uint8Array {
  return utf8(`transit receiver ${toHex(subkey(key, 'transit_receiver'))} ready\n\n`);
}

const RELAY_SIDE_RE = /^[0-9a-f]{16}$/;

/**
 * `please relay <hex(HKDF(tk, "transit_relay_token"))> for side <side>\n`.
 * `side` is this client's transit side: 8 random bytes as 16 lowercase hex.
 *
 * @example
 * relay.write(relayHandshake(tk, '0123456789abcdef'));
 */
export function relayHandshake(key: TransitKey, side: string): Uint8Array {
  if (typeof side !== 'string') throw new TypeError('side must be a string');
  if (!RELAY_SIDE_RE.test(side)) throw new RangeError('side must be 16 lowercase hex characters');
  return utf8(relayLine(toHex(subkey(key, 'transit_relay_token')), side));
}

/** Record keys for one end of a transit connection. */
export interface RecordKeys {
  /** Encrypts what we send. */
  readonly send: RecordKey;
  /** Decrypts what the peer sends. */
  readonly receive: RecordKey;
}

/**
 * The two record keys. Records from the sender use
 * `transit_record_sender_key`, records from the receiver
 * `transit_record_receiver_key`, whoever happens to be on which end.
 *
 * @example
 * const { send, receive } = recordKeys(tk, 'sender');
 */
export function recordKeys(key: TransitKey, role: 'sender' | 'receiver'): RecordKeys {
  if (role !== 'sender' && role !== 'receiver') throw new TypeError('role must be "sender" or "receiver"');
  const fromSender = subkey(key, 'transit_record_sender_key') as RecordKey;
  const fromReceiver = subkey(key, 'transit_record_receiver_key') as RecordKey;
  return role === 'sender'
    ? { send: fromSender, receive: fromReceiver }
    : { send: fromReceiver, receive: fromSender };
}
