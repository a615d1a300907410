/**
 * The server's side of the WebSocket opening handshake (RFC 6455 §4.2) for
 * the relay: check the upgrade request and build the 101 answer. No
 * extension is accepted (the relay's bytes are ciphertext: nothing to
 * compress); a requested subprotocol is echoed (the first one), as the `ws`
 * library did, so clients that ask for one still connect.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A base64-encoded 16-byte nonce. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token characters (a subprotocol name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type UpgradeAnswer =
  | { readonly ok: true; /** The 101 response, to write before any frame. */ readonly response: string }
  | { readonly ok: false; readonly status: 400 | 405; readonly text: string };

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Check an upgrade request to the relay and answer it. */
export function answerUpgrade(method: string | undefined, headers: IncomingHttpHeaders): UpgradeAnswer {
  if (method !== 'GET') return { ok: false, status: 405, text: 'Method Not Allowed' };
  const key = headers['sec-websocket-key'];
  if (headers.upgrade?.toLowerCase() !== 'websocket') return { ok: false, status: 400, text: 'Bad Request' };
  if (headers['sec-websocket-version'] !== '13' && headers['sec-websocket-version'] !== '8') return { ok: false, status: 400, text: 'Bad Request' };
  if (typeof key !== 'string' || !KEY.test(key.trim())) return { ok: false, status: 400, text: 'Bad Request' };
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key.trim())}`];
  const protocol = headers['sec-websocket-protocol']?.split(',')[0]?.trim();
  if (protocol && TOKEN.test(protocol)) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  return { ok: true, response: `${lines.join('\r\n')}\r\n\r\n` };
}
