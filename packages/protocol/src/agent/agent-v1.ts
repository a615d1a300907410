/**
 * agent-v1: how a paired client and the local agent authenticate each other
 * from their stored pairing secret (no code, no PAKE), and how the session
 * that follows is framed. Pure functions, no I/O.
 *
 * Handshake, as JSON text WebSocket messages (each ≤ 4 KiB):
 *
 *   client → agent  {"type":"hello","v":1,"id":C,"nonce":Nc}
 *   agent  → client {"type":"challenge","id":A,"nonce":Na,"proof":Pa}
 *   client → agent  {"type":"proof","proof":Pc}
 *   agent  → client {"type":"ready"}
 *   either → other  {"type":"error","code":CODE,"message":TEXT}   then close
 *
 * C and A are the two identities (16 bytes, hex), Nc and Na fresh 32-byte
 * nonces (hex). With T = C ‖ A ‖ Nc ‖ Na (raw bytes) and S the pairing
 * secret, Pa = HMAC-SHA256(S, "burrow agent-v1 agent proof" ‖ 0 ‖ T) and
 * Pc = HMAC-SHA256(S, "burrow agent-v1 client proof" ‖ 0 ‖ T). Each side
 * proves it holds S over both nonces, so neither proof can be replayed, and
 * a proof reveals nothing about S. The agent proves first, so a process
 * squatting on the agent's port learns nothing it could use and is refused
 * by the client.
 *
 * After `ready`, every WebSocket message is binary: one Transit-style record
 * (`length ‖ nonce ‖ secretbox`, counter nonces from 0, see
 * transit/records) under a per-direction key
 * HKDF-SHA256(ikm = S, salt = Nc ‖ Na, info = "burrow agent-v1 session
 * client→agent" / "… agent→client"). A record's plaintext is a tag byte and a
 * body: 0x00 a mux-v1 frame (the streams), 0x01 a control message (JSON,
 * e.g. `{"type":"revoked"}`). Unknown tags are ignored.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, fromHex, fromUtf8, toHex, utf8 } from '../bytes.js';
import { WormholeError, type WormholeErrorCode } from '../errors.js';
import { recordKey, type RecordKey } from '../keys.js';
import type { RandomSource } from '../logger.js';
import { parseJsonObject } from '../json.js';
import { parsePeerObject } from './json.js';
import { IDENTITY_RE } from './pairing-record.js';

export const AGENT_PROTOCOL_VERSION = 1;
/** WebSocket path of the agent's endpoint. */
export const AGENT_PATH = '/v1';
/** Largest handshake message. */
export const MAX_HANDSHAKE_MESSAGE = 4096;
export const NONCE_BYTES = 32;

const NONCE_RE = /^[0-9a-f]{64}$/;

export type HandshakeMessage =
  | { readonly type: 'hello'; readonly v: number; readonly id: string; readonly nonce: string }
  | { readonly type: 'challenge'; readonly id: string; readonly nonce: string; readonly proof: string }
  | { readonly type: 'proof'; readonly proof: string }
  | { readonly type: 'ready' }
  | { readonly type: 'error'; readonly code: WormholeErrorCode; readonly message: string }
  | { readonly type: 'unknown'; readonly original: string };

/** Codes an agent may send in an `error` message; anything else is reported as `RemoteProtocol`. */
const ERROR_CODES: ReadonlySet<string> = new Set<WormholeErrorCode>(['NotAllowed', 'Unpaired', 'Revoked', 'RemoteProtocol', 'Timeout']);

/** WebSocket close codes the agent uses alongside an `error` message. */
export const CLOSE_CODES: Readonly<Record<string, number>> = {
  NotAllowed: 4003,
  Unpaired: 4001,
  Revoked: 4004,
  RemoteProtocol: 4002,
  Timeout: 4008,
};

const CODE_BY_CLOSE = new Map<number, string>(Object.entries(CLOSE_CODES).map(([k, v]) => [v, k]));

/** The error a close code stands for (our 4xxx codes), if any. */
export function errorForClose(code: number, reason: string): WormholeError | undefined {
  const name = CODE_BY_CLOSE.get(code);
  if (!name) return undefined;
  return new WormholeError(name as WormholeErrorCode, reason || `closed by the agent (${name})`);
}

function protocolError(what: string): WormholeError {
  return new WormholeError('RemoteProtocol', `agent-v1: ${what}`);
}

function field(obj: Record<string, unknown>, key: string, re: RegExp): string {
  const v = obj[key];
  if (typeof v !== 'string' || !re.test(v)) throw protocolError(`bad or missing "${key}"`);
  return v;
}

/**
 * Parse one handshake message strictly: bounded size, known types checked
 * field by field, unknown types returned as `unknown` (never thrown on).
 */
export function parseHandshake(data: unknown): HandshakeMessage {
  if (typeof data !== 'string') throw protocolError('expected a text message during the handshake');
  const m = parsePeerObject(data, { maxLength: MAX_HANDSHAKE_MESSAGE }, 'agent-v1', 'handshake message');
  switch (m['type']) {
    case 'hello': {
      const v = m['v'];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw protocolError('bad "v"');
      return { type: 'hello', v, id: field(m, 'id', IDENTITY_RE), nonce: field(m, 'nonce', NONCE_RE) };
    }
    case 'challenge':
      return { type: 'challenge', id: field(m, 'id', IDENTITY_RE), nonce: field(m, 'nonce', NONCE_RE), proof: field(m, 'proof', NONCE_RE) };
    case 'proof':
      return { type: 'proof', proof: field(m, 'proof', NONCE_RE) };
    case 'ready':
      return { type: 'ready' };
    case 'error': {
      const code = typeof m['code'] === 'string' && ERROR_CODES.has(m['code']) ? (m['code'] as WormholeErrorCode) : 'RemoteProtocol';
      const message = typeof m['message'] === 'string' ? m['message'].slice(0, 500) : 'refused';
      return { type: 'error', code, message };
    }
    default:
      return { type: 'unknown', original: String(m['type']).slice(0, 40) };
  }
}

export function encodeHandshake(message: Exclude<HandshakeMessage, { type: 'unknown' }>): string {
  return JSON.stringify(message);
}

/** The transcript both proofs cover. */
function transcript(clientId: string, agentId: string, clientNonce: string, agentNonce: string): Uint8Array {
  return concatBytes(fromHex(clientId), fromHex(agentId), fromHex(clientNonce), fromHex(agentNonce));
}

export interface HandshakeParams {
  readonly clientId: string;
  readonly agentId: string;
  readonly clientNonce: string;
  readonly agentNonce: string;
}

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array)) throw new TypeError('secret must be a Uint8Array');
  if (secret.length !== 32) throw new RangeError('secret must be 32 bytes');
}

/**
 * A proof of holding the pairing secret, by `who`, over both identities and nonces.
 *
 * @example
 * const pa = proof(secret, 'agent', { clientId, agentId, clientNonce, agentNonce });
 */
export function proof(secret: Uint8Array, who: 'agent' | 'client', p: HandshakeParams): string {
  checkSecret(secret);
  const label = utf8(`burrow agent-v1 ${who} proof`);
  return toHex(hmac(sha256, secret, concatBytes(label, new Uint8Array([0]), transcript(p.clientId, p.agentId, p.clientNonce, p.agentNonce))));
}

/** Constant-time check of a proof received from the peer. */
export function verifyProof(secret: Uint8Array, who: 'agent' | 'client', p: HandshakeParams, received: string): boolean {
  if (typeof received !== 'string' || !NONCE_RE.test(received)) return false;
  return equalBytes(fromHex(proof(secret, who, p)), fromHex(received));
}

export interface SessionKeys {
  /** Encrypts client → agent records. */
  readonly clientToAgent: RecordKey;
  /** Encrypts agent → client records. */
  readonly agentToClient: RecordKey;
}

/** The two record keys of one authenticated session. */
export function sessionKeys(secret: Uint8Array, p: Pick<HandshakeParams, 'clientNonce' | 'agentNonce'>): SessionKeys {
  checkSecret(secret);
  const salt = concatBytes(fromHex(p.clientNonce), fromHex(p.agentNonce));
  return {
    clientToAgent: recordKey(hkdf(sha256, secret, salt, utf8('burrow agent-v1 session client→agent'), 32)),
    agentToClient: recordKey(hkdf(sha256, secret, salt, utf8('burrow agent-v1 session agent→client'), 32)),
  };
}

/** Largest control message accepted (UTF-16 code units of its JSON); larger ones read as `unknown`. */
export const MAX_CONTROL_MESSAGE = 64 * 1024;

/** Record plaintext tags. */
export const TAG_MUX = 0x00;
export const TAG_CONTROL = 0x01;
/** Largest session record (length field): mux DATA is at most 64 KiB, and with headers and the box a record stays well under this. */
export const MAX_RECORD = 80 * 1024;

export type ControlMessage =
  | { readonly type: 'revoked'; readonly message: string }
  | { readonly type: 'unknown'; readonly original: string };

export function encodeControl(message: Exclude<ControlMessage, { type: 'unknown' }>): Uint8Array {
  return concatBytes(new Uint8Array([TAG_CONTROL]), utf8(JSON.stringify(message)));
}

/** Parse a control body (after the tag); unknown or malformed messages come back as `unknown`. */
export function parseControl(body: Uint8Array): ControlMessage {
  let m: Record<string, unknown>;
  try {
    m = parseJsonObject(fromUtf8(body), { maxLength: MAX_CONTROL_MESSAGE });
  } catch {
    return { type: 'unknown', original: 'malformed' };
  }
  if (m['type'] === 'revoked') return { type: 'revoked', message: typeof m['message'] === 'string' ? m['message'].slice(0, 500) : 'the pairing was revoked' };
  return { type: 'unknown', original: String(m['type']).slice(0, 40) };
}

/** What one decrypted session record carries. */
export type RecordBody =
  | { readonly type: 'mux'; readonly frame: Uint8Array }
  | { readonly type: 'control'; readonly message: ControlMessage }
  | { readonly type: 'unknown'; readonly tag: number };

/** The plaintext of a record carrying one mux-v1 frame. */
export function encodeMuxBody(frame: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([TAG_MUX]), frame);
}

/** Read a decrypted record by its tag; unknown tags (and an empty record) come back as `unknown`. */
export function parseRecordBody(record: Uint8Array): RecordBody {
  const tag = record[0];
  if (tag === TAG_MUX) return { type: 'mux', frame: record.subarray(1) };
  if (tag === TAG_CONTROL) return { type: 'control', message: parseControl(record.subarray(1)) };
  return { type: 'unknown', tag: tag ?? -1 };
}

/** A fresh nonce as hex. */
export function newNonce(random: RandomSource): string {
  const n = random(NONCE_BYTES);
  if (!(n instanceof Uint8Array) || n.length !== NONCE_BYTES) throw new RangeError('random(32) must return 32 bytes');
  return toHex(n);
}

/** A short, non-secret label for an identity in logs (first 8 hex characters). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
