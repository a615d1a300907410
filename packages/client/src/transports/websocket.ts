/**
 * Mailbox frames over WebSocket text frames (the browser global, or the `ws`
 * package on Node 20).
 */
import { WormholeError } from '@burrow/protocol';
import { NEVER_OPENED, type MailboxTransport } from './types.js';

/** The subset of the WebSocket API we use (browser global, or the `ws` package in Node). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** Defaults to `globalThis.WebSocket`; pass `ws`'s WebSocket on Node 20. */
  WebSocket?: WebSocketConstructor;
}

/** Mailbox frames over WebSocket text frames. */
export function webSocketTransport(options: WebSocketTransportOptions = {}): MailboxTransport {
  return (url, handlers) => {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      handlers.closed(error);
    };
    if (!Ctor) {
      queueMicrotask(() =>
        finish(new WormholeError('Usage', 'no WebSocket implementation: pass { WebSocket } (e.g. from the "ws" package on Node 20)')),
      );
      return NEVER_OPENED;
    }
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (cause) {
      queueMicrotask(() => finish(new WormholeError('Connection', `cannot open a WebSocket to the mailbox: ${String(cause)}`, { cause })));
      return NEVER_OPENED;
    }
    socket.binaryType = 'arraybuffer';
    let failure: unknown;
    socket.addEventListener('open', () => {
      if (!done) handlers.open();
    });
    socket.addEventListener('message', (event) => {
      if (done) return;
      const data = event.data;
      if (typeof data === 'string') handlers.frame(data);
      else if (data instanceof ArrayBuffer) handlers.frame(new Uint8Array(data));
      else handlers.frame(new Uint8Array(0));
    });
    socket.addEventListener('error', () => {
      failure ??= new WormholeError('Connection', 'the mailbox WebSocket failed');
    });
    socket.addEventListener('close', (event) => {
      finish(failure ?? (event.code === 1000 ? undefined : new WormholeError('Connection', `the mailbox WebSocket closed (code ${event.code ?? '?'})`)));
    });
    return {
      send(frame) {
        if (!done && socket.readyState === 1) socket.send(frame);
      },
      close() {
        try {
          socket.close(1000);
        } catch {
          // already closing
        }
      },
    };
  };
}
