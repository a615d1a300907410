/**
 * @burrow/client/node — Node adapters: TCP transit dialer and listener, file
 * sources and sinks, SHA-256 from node:crypto, and Transit options that wire
 * them (plus `ws` for WebSocket relays).
 *
 *   import { fileSource, nodeTransit } from '@burrow/client/node';
 *   await sendFile(w, await fileSource(path), { transit: nodeTransit() });
 */
export { socketChannel, tcpDialer, tcpListen, localAddresses, type TcpListenOptions } from './tcp.js';
export { fileSource, directorySource } from './files.js';
export { fileSink, directorySink } from './sinks.js';
export { nodeFilesSink, partialName, type NodeFilesSinkOptions } from './files-sink.js';
export { nodeSecretBox, sodiumBox, type SodiumLoader, type SodiumSecretbox } from './sodium.js';
export { nodeTransit, nodeSha256, NodeWebSocket, type NodeTransitOptions } from './transit.js';
export { directTcp, DIRECT_HEAD_START_MS } from '../connection/direct.js';
