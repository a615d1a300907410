/**
 * @burrow/protocol/agent — the wire formats of Burrow's local agent, sans
 * I/O: agent-v1 (the paired handshake and its records), pair-v1 (pairing by
 * code), remote-v1 (code-free rendezvous), the RPC headers, and the pairing
 * record the stores keep. A subpath of its own so the client's core bundle
 * never pulls it in.
 *
 *   import { parseHandshake, encodeHandshake, sessionKeys } from '@burrow/protocol/agent';
 */
export * from './agent-v1.js';
export * from './pair-v1.js';
export * from './remote-v1.js';
export * from './rpc.js';
export * from './pairing-record.js';
export * from './revocation-notice.js';
export * from './native-v1.js';
