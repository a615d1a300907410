/**
 * @burrow/agent/client — the browser-safe half: pair with a local agent by
 * code, reconnect from the stored secret, call it and forward through it.
 *
 *   import { pairWithAgent, connectAgent } from '@burrow/agent/client';
 *   import { idbStore } from '@burrow/store';
 *   const store = idbStore();
 *   await pairWithAgent({ mailbox, code, store, name: 'My extension' });   // once
 *   const session = await connectAgent({ store });                         // every time after
 *   const res = await session.fetch('http://127.0.0.1:8080/');
 */
export { pairWithAgent, type PairWithAgentOptions } from './pair.js';
export { connectAgent, type ConnectAgentOptions, type RemoteConnectOptions, type AgentWebSocketConstructor } from './connect.js';
export { AgentSession } from './agent-session.js';
export { nativeMessaging, type NativePort } from './native.js';
export { NATIVE_HOST_NAME } from '@burrow/protocol/agent';
export { REMOTE_APPID, rendezvous, rendezvousWindow, listenWindows, nextListenChange, type Rendezvous, type RemoteWindowOptions } from '@burrow/protocol/agent';
export { httpOverStream, destinationOf, type AgentFetchInit } from './http.js';
export { PAIR_APPID, AGENT_PATH } from '@burrow/protocol/agent';
export type { SocketLike } from '../socket.js';
