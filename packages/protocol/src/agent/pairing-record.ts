/**
 * The pairing record: what an agent and each of its clients store about the
 * other, and this installation's identity. Pure data rules, no storage: the
 * store (`@burrow/store` `Pairings`) keeps these objects under its keys.
 *
 *   pairing record   {"id": HEX32, "name": TEXT, "peerRole": "agent"|"client",
 *                     "createdAt": MS, "lastSeenAt"?: MS, "revokedAt"?: MS,
 *                     "origin"?: TEXT, "endpoint"?: TEXT, "secret"?: HEX64,
 *                     "notice"?: HEX64}
 *   identity record  {"id": HEX32}
 *
 * Identities are 16 random bytes in hex; the secret is the 32-byte pair-v1
 * secret in hex, absent once revoked (the record stays as a tombstone). An
 * agent's record of a revoked client keeps instead the revocation notice
 * key (revocation-notice.ts), to tell that client it was revoked; it is
 * dropped once the client was told.
 * Unknown keys are ignored; a record that breaks these rules reads as
 * missing rather than throwing.
 */
import { fromHex, toHex } from '../bytes.js';
import { isJsonObject, type JsonObject } from '../json.js';
import type { RandomSource } from '../logger.js';
import { safeText } from '../text.js';
import { revocationNoticeKey } from './revocation-notice.js';

/** What the peer is: an agent (seen from a client) or a client (seen from an agent). */
export type PeerRole = 'agent' | 'client';

/** A pairing as callers see it: never the secret. */
export interface PairingInfo {
  /** The peer's identity: 32 lowercase hex characters. */
  readonly id: string;
  /** A label for people; renameable. */
  readonly name: string;
  readonly peerRole: PeerRole;
  /** When the pairing was made (ms since the epoch). */
  readonly createdAt: number;
  /** Last successful authentication (ms since the epoch). */
  readonly lastSeenAt?: number;
  /** Set once revoked: the secret is gone and the peer is refused. */
  readonly revokedAt?: number;
  /** The client's origin as it declared it at pairing (e.g. `chrome-extension://…`); the agent insists on it. */
  readonly origin?: string;
  /** Where the agent listens (e.g. `ws://127.0.0.1:4100/`), as the agent said at pairing. */
  readonly endpoint?: string;
}

/** A pairing as stored: the info plus the secret in hex (absent once revoked), and once revoked on an agent, the notice key in hex. */
export type PairingRecord = PairingInfo & { readonly secret?: string; readonly notice?: string };

/** What a caller supplies to record a new pairing. */
export interface NewPairing {
  readonly id: string;
  readonly name: string;
  readonly peerRole: PeerRole;
  readonly origin?: string;
  readonly endpoint?: string;
}

/** Identities are 16 random bytes in hex. */
export const IDENTITY_RE = /^[0-9a-f]{32}$/;
/** Bytes in an identity. */
export const IDENTITY_BYTES = 16;
/** Longest pairing name. */
export const MAX_NAME_LENGTH = 100;
/** Bytes in a pairing secret. */
export const PAIRING_SECRET_BYTES = 32;
const SECRET_RE = /^[0-9a-f]{64}$/;

/** Throws a TypeError unless `id` is an identity (32 lowercase hex characters). */
export function checkIdentity(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !IDENTITY_RE.test(id)) throw new TypeError('id must be 32 lowercase hex characters');
}

/**
 * Strip controls, escape sequences and bidi characters ({@link safeText}),
 * trim and bound a name; throws a TypeError (not a string) or RangeError
 * (empty or longer than {@link MAX_NAME_LENGTH}).
 *
 * @example
 * cleanName('  Work   laptop '); // 'Work laptop'
 * cleanName('Work\x1b[2J\u202e laptop'); // 'Work laptop'
 */
export function cleanName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const trimmed = safeText(name).trim().replace(/\s+/g, ' ');
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) throw new RangeError(`name must be 1 to ${MAX_NAME_LENGTH} characters`);
  return trimmed;
}

/**
 * A new record, checked: the id, the role, the 32-byte secret and the name
 * (cleaned). Throws TypeError/RangeError naming the bad argument.
 */
export function newPairingRecord(pairing: NewPairing, secret: Uint8Array, createdAt: number): PairingRecord {
  checkIdentity(pairing.id);
  if (pairing.peerRole !== 'agent' && pairing.peerRole !== 'client') throw new TypeError('peerRole must be "agent" or "client"');
  if (!(secret instanceof Uint8Array) || secret.length !== PAIRING_SECRET_BYTES) throw new RangeError('secret must be 32 bytes');
  return {
    id: pairing.id,
    name: cleanName(pairing.name),
    peerRole: pairing.peerRole,
    createdAt,
    ...(pairing.origin !== undefined ? { origin: String(pairing.origin) } : {}),
    ...(pairing.endpoint !== undefined ? { endpoint: String(pairing.endpoint) } : {}),
    secret: toHex(secret),
  };
}

/** Read a stored value as a pairing record; `undefined` when it is not one. Unknown keys are dropped. */
export function parsePairingRecord(value: unknown): PairingRecord | undefined {
  if (!isJsonObject(value)) return undefined;
  const v = value;
  if (typeof v['id'] !== 'string' || !IDENTITY_RE.test(v['id'])) return undefined;
  if (typeof v['name'] !== 'string' || (v['peerRole'] !== 'agent' && v['peerRole'] !== 'client') || typeof v['createdAt'] !== 'number') return undefined;
  return {
    id: v['id'],
    name: v['name'],
    peerRole: v['peerRole'],
    createdAt: v['createdAt'],
    ...(typeof v['lastSeenAt'] === 'number' ? { lastSeenAt: v['lastSeenAt'] } : {}),
    ...(typeof v['revokedAt'] === 'number' ? { revokedAt: v['revokedAt'] } : {}),
    ...(typeof v['origin'] === 'string' ? { origin: v['origin'] } : {}),
    ...(typeof v['endpoint'] === 'string' ? { endpoint: v['endpoint'] } : {}),
    ...(typeof v['secret'] === 'string' && SECRET_RE.test(v['secret']) ? { secret: v['secret'] } : {}),
    ...(typeof v['notice'] === 'string' && SECRET_RE.test(v['notice']) && typeof v['revokedAt'] === 'number' ? { notice: v['notice'] } : {}),
  };
}

/** The record as a plain JSON object to store (keys in the record's order, absent fields left out). */
export function encodePairingRecord(record: PairingRecord): JsonObject {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** The record without its secret or notice key: what callers may see. */
export function pairingInfo(record: PairingRecord): PairingInfo {
  const { secret: _secret, notice: _notice, ...info } = record;
  return info;
}

/**
 * The record revoked at `now` (kept if already revoked): the secret dropped,
 * a tombstone left; a client's record (kept by an agent) keeps the
 * revocation notice key derived from the secret, to tell that client.
 */
export function revokedPairingRecord(record: PairingRecord, now: number): PairingRecord {
  let notice = record.notice;
  if (record.secret !== undefined && record.peerRole === 'client') {
    const key = revocationNoticeKey(fromHex(record.secret));
    notice = toHex(key);
    key.fill(0);
  }
  return { ...pairingInfo(record), revokedAt: record.revokedAt ?? now, ...(notice !== undefined ? { notice } : {}) };
}

/** Read a stored value as an identity record; `undefined` when it is not one. */
export function parseIdentityRecord(value: unknown): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const id = value['id'];
  return typeof id === 'string' && IDENTITY_RE.test(id) ? id : undefined;
}

/** A fresh identity record from `random`. Throws a RangeError if `random` does not return 16 bytes. */
export function newIdentityRecord(random: RandomSource): { readonly id: string } {
  const bytes = random(IDENTITY_BYTES);
  if (!(bytes instanceof Uint8Array) || bytes.length !== IDENTITY_BYTES) throw new RangeError('random(16) must return 16 bytes');
  return { id: toHex(bytes) };
}
