/**
 * @burrow/store — small persistence for Burrow: a key-value contract with
 * IndexedDB (browsers), memory and file (Node, `@burrow/store/file`)
 * implementations, and the pairing records the agent and its clients keep.
 *
 *   import { idbStore, Pairings } from '@burrow/store';
 *   const pairings = new Pairings(idbStore());
 *   console.table(await pairings.list());
 */
export { checkKey, checkValue, MAX_KEY_LENGTH } from './kv.js';
export type { JsonValue, KeyValueStore, StoreCallOptions } from './kv.js';
export { memoryStore } from './memory.js';
export { idbStore, type IdbStoreOptions } from './idb.js';
export { Pairings, loadIdentity, cleanName, IDENTITY_RE, MAX_NAME_LENGTH } from './pairings.js';
export type { PairingInfo, PeerRole, NewPairing, PairingsOptions } from './pairings.js';
