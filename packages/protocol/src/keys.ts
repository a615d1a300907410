/**
 * Branded key types. Every key is a plain `Uint8Array` at run time; the brand
 * only exists for the type checker, so a session key cannot be passed where a
 * phase key or a transit record key is expected (magic-wormhole.rs `Key<P>`).
 */

import { abytes } from './bytes.js';

/** A 32-byte symmetric key tagged with what it is for. */
export type Key<P extends string> = Uint8Array & { readonly __keyPurpose: P };

/** The SPAKE2 output: the wormhole's shared secret. */
export type SessionKey = Key<'session'>;
/** Per-(side, phase) mailbox message key. */
export type PhaseKey = Key<'phase'>;
/** `derive_key(session, appid + "/transit-key")`: the root of every transit secret. */
export type TransitKey = Key<'transit'>;
/** Secretbox key for one direction of transit records. */
export type RecordKey = Key<'record'>;

/** Length of every Burrow key (NaCl `SecretBox.KEY_SIZE`). */
export const KEY_LENGTH = 32;

function brand<P extends string>(bytes: Uint8Array, name: string): Key<P> {
  abytes(bytes, name, KEY_LENGTH);
  return bytes as Key<P>;
}

/** Tag 32 bytes as a session key (no copy). @example sessionKey(fromHex(hex)) */
export const sessionKey = (bytes: Uint8Array): SessionKey => brand(bytes, 'session key');
/** Tag 32 bytes as a phase key (no copy). */
export const phaseKey = (bytes: Uint8Array): PhaseKey => brand(bytes, 'phase key');
/** Tag 32 bytes as a transit key (no copy). */
export const transitKey = (bytes: Uint8Array): TransitKey => brand(bytes, 'transit key');
/** Tag 32 bytes as a transit record key (no copy). */
export const recordKey = (bytes: Uint8Array): RecordKey => brand(bytes, 'record key');
