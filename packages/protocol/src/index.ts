/**
 * @burrow/protocol — magic-wormhole's wire formats, crypto and state machines,
 * sans I/O. Byte-compatible with magic-wormhole 0.12.
 */
export * from './bytes.js';
export * from './errors.js';
export * from './keys.js';
export * from './kdf.js';
export * from './secretbox.js';
export * from './spake2.js';
export * from './wordlist.js';
export * from './codes.js';
export * from './messages.js';
export { defineMachine } from './machines/machine.js';
export type { Machine, MachineState, Transition, StepResult } from './machines/machine.js';
export type { SessionEnv, IoEffect, MachineName } from './machines/types.js';
export { Session, MACHINES } from './machines/session.js';
export type { SessionInput, TraceEntry } from './machines/session.js';
export { DEFAULT_RECONNECT } from './machines/rendezvous.js';
export { encodePakeBody, decodePakeBody } from './machines/key.js';
export * from './transit/crypto.js';
export * from './transit/records.js';
export * from './transit/record-box.js';
export * from './transit/hints.js';
export * from './transit/handshake.js';
export * from './transit/relays-welcome.js';
export * from './transfer/messages.js';
export * from './app-messages.js';
export * from './transfer/crc32.js';
export { zipEntryPath, type ZipMethod } from './transfer/zip-format.js';
export * from './transfer/zip-writer.js';
export * from './transfer/zip-reader.js';
export * from './transfer/hash.js';
export * from './uri.js';
export * from './verifier.js';
export * from './mux.js';
export * from './frames.js';
export * from './json.js';
export * from './async.js';
export * from './logger.js';
export * from './text.js';
export * from './hashcash.js';
export * from './permission.js';
