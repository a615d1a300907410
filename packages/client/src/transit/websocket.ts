/**
 * A WebSocket as a Transit byte channel: how a browser reaches a relay. Each
 * binary message carries bytes of the same stream the TCP side would see
 * (`please relay …\n`, handshakes, records). Writes wait while
 * `bufferedAmount` is above a high watermark (polled: not every
 * implementation fires an event when it drains).
 */
import { WormholeError, abortError } from '@burrow/protocol';
import type { ByteChannel, DialOptions, WebSocketDialer } from './types.js';

interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (ev: unknown) => void, options?: { once?: boolean }): void;
  /** Stop delivering messages (Node's `ws`); browsers have no receive backpressure. */
  pause?(): void;
  resume?(): void;
}
type WebSocketCtor = new (url: string) => WebSocketLike;

export interface WebSocketDialerOptions {
  /** WebSocket implementation (default `globalThis.WebSocket`). */
  WebSocket?: WebSocketCtor;
  /** Pause writes above this many buffered bytes (default 1 MiB). */
  highWaterMark?: number;
  /** Resume below this (default 256 KiB). */
  lowWaterMark?: number;
}

/**
 * @example
 * const dialers = { websocket: webSocketDialer() };
 */
export function webSocketDialer(options: WebSocketDialerOptions = {}): WebSocketDialer {
  const high = options.highWaterMark ?? 1024 * 1024;
  const low = options.lowWaterMark ?? 256 * 1024;
  return (url: string, dial: DialOptions): Promise<ByteChannel> => {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Ctor) return Promise.reject(new WormholeError('Usage', 'no WebSocket implementation: pass one in the dialer options'));
    if (dial.signal?.aborted) return Promise.reject(abortError(dial.signal));
    const ws = new Ctor(url);
    ws.binaryType = 'arraybuffer';
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    };
    return new Promise<ByteChannel>((resolve, reject) => {
      const onAbort = () => {
        close();
        reject(new WormholeError('Aborted', 'dial aborted'));
      };
      dial.signal?.addEventListener('abort', onAbort, { once: true });
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      // Receive backpressure where the implementation can pause (`ws`):
      // stop reading the socket while a slow reader leaves bytes queued.
      const readable = new ReadableStream<Uint8Array>(
        {
          start(c) {
            controller = c;
          },
          pull() {
            ws.resume?.();
          },
          cancel: close,
        },
        { highWaterMark: high, size: (c) => c.byteLength },
      );
      const enqueue = (chunk: Uint8Array) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) ws.pause?.();
      };
      ws.addEventListener('message', (ev) => {
        const data = (ev as { data: unknown }).data;
        if (data instanceof ArrayBuffer) enqueue(new Uint8Array(data));
        else if (ArrayBuffer.isView(data)) enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        else {
          controller.error(new WormholeError('RemoteProtocol', 'relay sent a text WebSocket frame', { blame: 'server' }));
          close();
        }
      });
      ws.addEventListener(
        'open',
        () => {
          dial.signal?.removeEventListener('abort', onAbort);
          const writable = new WritableStream<Uint8Array>({
            async write(chunk) {
              if (closed) throw new WormholeError('Connection', 'WebSocket closed');
              ws.send(chunk);
              while (ws.bufferedAmount > high && !closed) {
                while (ws.bufferedAmount > low && !closed) await new Promise((r) => setTimeout(r, 5));
              }
            },
            close,
            abort: close,
          });
          resolve({ readable, writable, close });
        },
        { once: true },
      );
      ws.addEventListener('close', () => {
        closed = true;
        try {
          controller.close();
        } catch {
          // errored already
        }
        reject(new WormholeError('Connection', `WebSocket to ${url} closed`));
      });
      ws.addEventListener('error', () => {
        try {
          controller.error(new WormholeError('Connection', `WebSocket to ${url} failed`));
        } catch {
          // closed already
        }
        reject(new WormholeError('Connection', `cannot open WebSocket to ${url}`));
      });
    });
  };
}
