/**
 * One relay WebSocket after its upgrade: a socket, a {@link FrameParser}
 * and the relay endpoint they make.
 *
 * The data path copies nothing: reads land in one buffer per connection
 * (see ./read-buffer.ts), frames are unmasked in place there, and their
 * payloads are lent to the buddy, which writes them straight out (the relay
 * pauses this side until a buddy that kept the view has flushed it). Bytes
 * towards the client go out as a frame header plus the buddy's chunk in one
 * corked write (writev), never concatenated, and the buddy is held while
 * the kernel has not taken a lent chunk.
 *
 * RFC 6455 here: pings are answered, pongs ignored; a close frame is echoed
 * and the connection ended; text frames are refused (1003), protocol errors
 * and frames over the cap end it with 1002/1007/1009. A close the client
 * does not complete is cut after a timeout.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import type { RelayEndpoint, RelayEndpointEvents } from './endpoint.js';
import { READ_BUFFER_BYTES, withReadBuffer } from './read-buffer.js';
import type { TransitRelay } from './relay.js';
import { CLOSE_CODE, closePayload, encodeFrame, FrameParser, frameHeader, OPCODE, type Unmask } from './ws-frames.js';

export interface RelayWebSocketConnectionOptions {
  readonly address: string;
  readonly maxFrameBytes: number;
  /** How long a close may wait for the client's answer (default 5 s). */
  readonly closeTimeoutMs?: number;
  readonly logger?: Logger;
  /** The socket closed (the relay has been told). */
  readonly onClosed?: () => void;
}

/** Payloads below this go out in one buffer with their header (a copy is cheaper than a writev). */
const COPY_BELOW = 1024;

let nativeUnmask: Unmask | null | undefined;
/** bufferutil's unmask (an optional dependency; ~10× the JS one), or undefined. */
function loadNativeUnmask(): Unmask | undefined {
  if (nativeUnmask === undefined) {
    try {
      const mod = createRequire(import.meta.url)('bufferutil') as { unmask?: Unmask };
      nativeUnmask = typeof mod.unmask === 'function' ? mod.unmask : null;
    } catch {
      nativeUnmask = null; // not installed: the JS unmask does the work
    }
  }
  return nativeUnmask ?? undefined;
}

export class RelayWebSocketConnection {
  readonly #socket: Duplex;
  readonly #parser: FrameParser;
  readonly #events: RelayEndpointEvents;
  readonly #options: RelayWebSocketConnectionOptions;
  /** Whether the chunk being parsed is the reused read buffer (lend it) or a buffer of its own. */
  #lending = false;
  #closeSent = false;
  #closeReceived = false;
  #closeTimer: NodeJS.Timeout | undefined;

  /** Take over `raw` (upgraded: the 101 not yet written) for `relay`; `head` is what followed the request. */
  constructor(relay: TransitRelay, raw: Duplex, head: Uint8Array, response: string, options: RelayWebSocketConnectionOptions) {
    this.#options = options;
    const early = (raw.readableLength > 0 ? (raw.read() as Buffer | null) : null) ?? undefined;
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket = withReadBuffer(raw, {
      buffer,
      callback: (n) => {
        this.#read(buffer.subarray(0, n), true);
        return true; // pausing is the relay's call (pause())
      },
    });
    this.#socket = socket;
    const unmask = loadNativeUnmask();
    this.#parser = new FrameParser(
      {
        data: (payload, text) => this.#data(payload, text),
        ping: (payload) => this.#send(OPCODE.pong, payload),
        pong: () => undefined, // unsolicited or late pongs need no answer
        close: (code) => this.#peerClosed(code),
        error: (code, reason) => this.#protocolError(code, reason),
      },
      { maxFrameBytes: options.maxFrameBytes, ...(unmask ? { unmask } : {}) },
    );
    (socket as Partial<Socket>).setNoDelay?.(true);
    this.#events = relay.attach(this.#endpoint());
    socket.on('drain', () => this.#events.drain());
    socket.on('end', () => socket.end()); // the client half-closed: no close frame can follow
    socket.on('error', (err: NodeJS.ErrnoException) => options.logger?.debug?.('relay.websocket-error', { address: options.address, error: err.code ?? err.message }));
    socket.on('close', () => {
      clearTimeout(this.#closeTimer);
      this.#events.closed();
      options.onClosed?.();
    });
    socket.write(response);
    if (head.length > 0) this.#read(head, false);
    if (early) this.#read(early, false);
    if (socket === raw) {
      socket.on('data', (chunk: Buffer) => this.#read(chunk, false));
      socket.resume();
    }
  }

  /** Close now, without a close frame (the gateway is stopping). */
  terminate(): void {
    this.#socket.destroy();
  }

  #endpoint(): RelayEndpoint {
    const socket = this.#socket;
    const flushed = (): void => this.#events.drain();
    return {
      kind: 'ws',
      address: this.#options.address,
      write: (data, lent) => {
        if (this.#closeSent || !socket.writable) return false;
        if (data.length < COPY_BELOW) {
          socket.write(encodeFrame(OPCODE.binary, data));
          return false;
        }
        socket.cork();
        socket.write(frameHeader(OPCODE.binary, data.length));
        if (lent) socket.write(data, flushed);
        else socket.write(data);
        socket.uncork();
        // Written at once unless the kernel was full: then `data` stays queued and the sender waits for `flushed`.
        return lent === true && socket.writableLength > 0;
      },
      buffered: () => socket.writableLength,
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      end: () => this.#close(CLOSE_CODE.normal, ''),
      destroy: () => socket.destroy(),
    };
  }

  #read(chunk: Uint8Array, lending: boolean): void {
    this.#lending = lending;
    this.#parser.push(chunk);
  }

  #data(payload: Uint8Array, text: boolean): void {
    if (text) {
      this.#options.logger?.info?.('relay.text-frame', { address: this.#options.address });
      this.#parser.stop();
      this.#close(CLOSE_CODE.unsupportedData, 'binary frames only', true);
      return;
    }
    if (!this.#closeSent) this.#events.data(payload, this.#lending);
  }

  #peerClosed(code: number | undefined): void {
    this.#closeReceived = true;
    this.#close(code ?? CLOSE_CODE.normal, '', true, code === undefined);
  }

  #protocolError(code: number, reason: string): void {
    // `error` as the ws library named it, which /metrics counts (frame-size).
    const tooBig = code === CLOSE_CODE.tooBig;
    const error = tooBig ? 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' : 'WS_ERR_PROTOCOL';
    this.#options.logger?.[tooBig ? 'warn' : 'debug']?.('relay.websocket-error', { address: this.#options.address, error, code, reason });
    this.#close(code, reason, true);
  }

  /**
   * Send a close frame (once) and end the connection: at once when the
   * client closed first or broke the protocol (`now`), else when its close
   * frame comes; either way it is cut after the close timeout.
   */
  #close(code: number, reason: string, now = false, empty = false): void {
    const socket = this.#socket;
    if (!this.#closeSent && socket.writable) {
      this.#send(OPCODE.close, empty ? new Uint8Array(0) : closePayload(code, reason));
      this.#closeSent = true;
      this.#closeTimer = setTimeout(() => socket.destroy(), this.#options.closeTimeoutMs ?? 5_000);
      this.#closeTimer.unref();
    }
    if (now || this.#closeReceived) socket.end();
  }

  #send(opcode: number, payload: Uint8Array): void {
    if (!this.#closeSent && this.#socket.writable) this.#socket.write(encodeFrame(opcode, payload));
  }
}
