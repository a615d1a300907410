/**
 * @burrow/client — magic-wormhole in browsers and Node.
 *
 *   import { createWormhole } from '@burrow/client';
 *   const w = await createWormhole({ mailbox: 'ws://127.0.0.1:4000/v1' });
 *   const code = await w.allocateCode();
 *   await w.sendText('hello');
 *   await w.close();
 */
export { createWormhole, Wormhole, DEFAULT_APPID, MAX_MESSAGE_SIZE } from './wormhole.js';
export type { WormholeOptions, CallOptions, Logger, WormholeStatus } from './wormhole.js';
export { webSocketTransport } from './transport.js';
export type { MailboxTransport, FrameHandlers, FrameConnection, WebSocketConstructor, WebSocketLike } from './transport.js';
export { sendText, receiveText, parseAppMessage } from './text.js';
export { WormholeError, isWormholeError, parseCode, completeCode, generateCode, toHex, fromHex } from '@burrow/protocol';
export type { WormholeErrorCode, Blame } from '@burrow/protocol';
