/**
 * One WebTransport session handed over by the Deno QUIC bridge, as the
 * session shape the mailbox and relay serve ({@link WebTransportSessionLike}).
 * The bridge's Unix-socket connection carries the session in the framing of
 * bridge-frames.ts; this module turns it back into a session with one
 * incoming bidirectional stream, so `serveMailboxSession` and
 * `serveRelaySession` treat it exactly like any other WebTransport session
 * (admission by the client's address, limits, the first-stream timeout).
 *
 * Backpressure follows the socket both ways: the stream's readable pauses
 * the socket while its queue is full, and a write resolves once the socket
 * took the frame.
 */
import type { Socket } from 'node:net';
import { LengthPrefixedParser } from '@burrow/protocol/frames';
import type { BidiStreamLike, WebTransportSessionLike } from '../mailbox/webtransport.js';
import { BridgeFrame, MAX_BRIDGE_FRAME, encodeBridgeClose, encodeBridgeFrame, parseBridgeFrame } from './bridge-frames.js';

/** Largest data frame written to the bridge (the bridge accepts up to 1 MiB). */
const MAX_DATA = 32 * 1024;
/** Chunks queued from the client before the socket is paused. */
const READ_QUEUE_CHUNKS = 8;

/** A bridged session and the path the client opened it at. */
export interface BridgedSession {
  readonly path: string;
  readonly session: WebTransportSessionLike;
}

/**
 * Read the bridge's `hello` from `socket` and return the session. Resolves
 * undefined (and destroys the socket) if it ends, sends something else
 * first, or says nothing for `helloTimeoutMs`.
 */
export function acceptBridgeSocket(socket: Socket, helloTimeoutMs = 5000): Promise<BridgedSession | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(), helloTimeoutMs);
    const fail = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    };
    const session = new BridgeSocketSession(socket, (path) => {
      clearTimeout(timer);
      resolve({ path, session });
    }, fail);
  });
}

class BridgeSocketSession implements WebTransportSessionLike {
  readonly ready: Promise<unknown> = Promise.resolve();
  readonly closed: Promise<unknown>;
  readonly incomingBidirectionalStreams: ReadableStream<BidiStreamLike>;
  peerAddress?: string;
  readonly #socket: Socket;
  readonly #parser = new LengthPrefixedParser(MAX_BRIDGE_FRAME);
  #streams!: ReadableStreamDefaultController<BidiStreamLike>;
  #incoming: ReadableStreamDefaultController<Uint8Array> | undefined;
  #hello: ((path: string) => void) | undefined;
  #gone = false;

  constructor(socket: Socket, onHello: (path: string) => void, onBadStart: () => void) {
    this.#socket = socket;
    this.#hello = onHello;
    this.incomingBidirectionalStreams = new ReadableStream<BidiStreamLike>({ start: (c) => void (this.#streams = c) });
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of this.#parser.feed(chunk)) this.#frame(parseBridgeFrame(body));
      } catch {
        if (this.#hello) onBadStart();
        else socket.destroy();
      }
    });
    socket.on('error', () => {
      /* the 'close' that follows ends the session */
    });
    socket.once('close', () => {
      this.#gone = true;
      if (this.#hello) onBadStart();
      try {
        this.#streams.close();
      } catch {
        // already closed
      }
      try {
        this.#incoming?.error(new Error('WebTransport session closed'));
      } catch {
        // already ended
      }
    });
  }

  close(info?: { closeCode?: number; reason?: string }): void {
    if (this.#gone || this.#socket.destroyed) return;
    this.#gone = true;
    // After whatever is queued: the client gets its last frames, then the close.
    this.#socket.end(encodeBridgeClose(info?.closeCode, info?.reason));
  }

  #frame(frame: ReturnType<typeof parseBridgeFrame>): void {
    if (this.#hello) {
      if (frame.type !== 'hello') throw new TypeError('bridge spoke before hello');
      const onHello = this.#hello;
      this.#hello = undefined;
      if (frame.peer !== undefined) this.peerAddress = frame.peer;
      onHello(frame.path);
      return;
    }
    if (frame.type === 'stream' && !this.#incoming) this.#streams.enqueue(this.#stream());
    else if (frame.type === 'data' && this.#incoming) {
      this.#incoming.enqueue(frame.bytes);
      if ((this.#incoming.desiredSize ?? 1) <= 0) this.#socket.pause();
    } else if (frame.type === 'end' && this.#incoming) {
      try {
        this.#incoming.close();
      } catch {
        // already closed
      }
    }
  }

  #stream(): BidiStreamLike {
    const socket = this.#socket;
    const readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => void (this.#incoming = c),
        pull: () => void socket.resume(),
      },
      new CountQueuingStrategy({ highWaterMark: READ_QUEUE_CHUNKS }),
    );
    const send = (bytes: Uint8Array): Promise<void> =>
      new Promise((resolve, reject) => {
        if (this.#gone || socket.destroyed) return reject(new Error('WebTransport session closed'));
        socket.write(bytes, (err) => (err ? reject(err) : resolve()));
      });
    const writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        for (let at = 0; at < chunk.length; at += MAX_DATA) await send(encodeBridgeFrame(BridgeFrame.data, chunk.subarray(at, at + MAX_DATA)));
      },
      close: () => send(encodeBridgeFrame(BridgeFrame.end)),
      abort: () => this.close(),
    });
    return { readable, writable };
  }
}
