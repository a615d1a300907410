/**
 * @burrow/agent — the local agent (Node) and its client.
 *
 *   import { startAgent } from '@burrow/agent';
 *   const agent = await startAgent({ store, allowOrigins, allowForward, mailbox });
 *
 * The browser-safe client lives at `@burrow/agent/client` and is re-exported
 * here for Node callers.
 */
export { startAgent, Agent, DEFAULT_AGENT_PORT } from './agent.js';
export type { AgentOptions, AgentEvent, AgentStatus, AgentPairings, PairingOffer, RpcHandler, RemoteListenOptions } from './agent.js';
export { Policy, normalizeOrigin, parseDestination, type Destination, type Refusal, type RefusalReason } from './policy.js';
export { serveNativeHost, installNativeHost, nativeHostDir, callerOrigin, stdioSocket, type InstallNativeHostOptions, type NativeHostBrowser } from './native-host.js';
export { runPairing, pairingPurpose, PAIR_APPID, type PairSelf, type RunPairingOptions } from './pair.js';
/** The agent's wire formats (agent-v1, pair-v1, remote-v1, rpc, pairing records), as `@burrow/protocol/agent` exports them. */
export * as wire from '@burrow/protocol/agent';
export * from './client/index.js';
// The stores and pairing records, so Node embedders need only this package.
export { Pairings, loadIdentity, memoryStore, type KeyValueStore, type PairingInfo } from '@burrow/store';
export { fileStore } from '@burrow/store/file';
