/**
 * Reaching the agent through the browser's native messaging (native-v1,
 * see `@burrow/protocol/agent`) instead of its WebSocket: no TCP port at
 * all. Pass the result as `connectAgent`'s `WebSocket`:
 *
 *   const session = await connectAgent({ store, WebSocket: nativeMessaging(() => chrome.runtime.connectNative(NATIVE_HOST_NAME)) });
 *
 * The browser starts the agent's native host (`burrow agent native-host`,
 * installed with `burrow agent install-native-host`) for this extension
 * only; the same pairing, handshake and policy apply.
 */
import { NativeSocket } from '../native-socket.js';
import type { AgentWebSocketConstructor } from './connect.js';

/** The part of a WebExtension `runtime.Port` used here. */
export interface NativePort {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

/** A `WebSocket` constructor for `connectAgent` that opens a native messaging port with `connect` (the URL is ignored). */
export function nativeMessaging(connect: () => NativePort): AgentWebSocketConstructor {
  return class extends NativeSocket {
    constructor(_url: string) {
      const port = connect();
      super(
        (message) => port.postMessage(message),
        () => {
          try {
            port.disconnect();
          } catch {
            // already disconnected
          }
        },
      );
      port.onMessage.addListener((message) => this.receive(message));
      port.onDisconnect.addListener(() => this.ended());
    }
  };
}
