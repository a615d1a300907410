/**
 * One stream's semantics, shared by every connector: a `{ readable,
 * writable }` pair over a "wire" (a data channel, or a mux-v1 stream id).
 *
 * - Writes are cut into chunks of at most `wire.maxChunk` bytes. A chunk
 *   goes out only when the peer has granted credit for it and the wire is
 *   ready (transport backpressure, e.g. `bufferedAmount` below its high
 *   watermark), so a slow reader slows the writer, end to end.
 * - The reader's queue is bounded by the credit it grants: `window` bytes
 *   at the start, and more as the application reads.
 * - `writable.close()` sends FIN (half-close: the other direction stays
 *   open); `writable.abort(reason)` sends RESET with the reason (the peer's
 *   reads fail with `StreamReset`); `readable.cancel(reason)` sends STOP
 *   (the peer's writes fail with `StreamReset`).
 * - When both directions are finished the wire is released.
 */
import { WormholeError } from '@burrow/protocol';
import type { DuplexStream } from './types.js';

export type StreamControl =
  | { readonly type: 'fin' }
  | { readonly type: 'reset'; readonly reason: string }
  | { readonly type: 'stop'; readonly reason: string }
  | { readonly type: 'credit'; readonly increment: number };

export interface StreamWire {
  /** Largest data chunk the wire carries. */
  readonly maxChunk: number;
  /**
   * Grow the credit we grant, up to this many bytes outstanding, while the
   * application keeps up (its queue runs empty at a grant): a window that
   * stalls a fast link grows, one a slow reader fills does not. Default:
   * the hooks' `window`, fixed.
   */
  readonly maxReceiveWindow?: number;
  /** Send one data chunk (≤ maxChunk). Throws if the wire is gone. */
  sendData(chunk: Uint8Array): void;
  sendControl(control: StreamControl): void;
  /** `undefined` if the wire can take data now, else a promise for when it can (rejects if it died). */
  ready(): Promise<void> | undefined;
  /**
   * Both directions are finished: close the channel / forget the id.
   * `lastByPeer` is true when a message from the peer finished the stream
   * (so the peer has sent everything and we have received it); when our own
   * last message finished it, a data channel waits for the peer to close,
   * since closing could overtake what we sent.
   */
  release(lastByPeer: boolean): void;
}

export interface StreamHooks {
  /** Credit the peer starts with, and the most we ever let it have outstanding. */
  readonly window: number;
  sent(bytes: number): void;
  received(bytes: number): void;
  /** Called once when both directions are finished. */
  finished(stream: StreamCore): void;
  /** The peer broke the stream protocol: fail the connection. */
  violation(error: WormholeError): void;
}

const reasonText = (reason: unknown): string =>
  reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason).slice(0, 256);

export class StreamCore implements DuplexStream {
  readonly id: number;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly #wire: StreamWire;
  readonly #hooks: StreamHooks;
  // receive side
  #rc!: ReadableStreamDefaultController<Uint8Array>;
  readonly #queue: Uint8Array[] = [];
  #pulling = false;
  #recvAllowed: number;
  /** Credit we let the peer have outstanding: `hooks.window`, grown up to `wire.maxReceiveWindow`. */
  #recvWindow: number;
  #recvTotal = 0;
  #consumedSinceGrant = 0;
  /** 'open' → 'fin' (drain, then close) → 'done'; or 'done' at once on reset/cancel/failure. */
  #recv: 'open' | 'fin' | 'done' = 'open';
  // send side
  #wc!: WritableStreamDefaultController;
  #sendCredit: number;
  #creditWaiter: (() => void) | undefined;
  #send: 'open' | 'done' = 'open';
  #sendError: WormholeError | undefined;
  #released = false;
  #byPeer = false;

  constructor(id: number, wire: StreamWire, hooks: StreamHooks) {
    this.id = id;
    this.#wire = wire;
    this.#hooks = hooks;
    this.#recvAllowed = hooks.window;
    this.#recvWindow = hooks.window;
    this.#sendCredit = hooks.window;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#rc = c;
        },
        pull: () => {
          this.#pulling = true;
          this.#deliver();
        },
        cancel: (reason) => this.#cancelRead(reason),
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (c) => {
          this.#wc = c;
        },
        write: (chunk) => this.#write(chunk),
        close: () => this.#closeWrite(),
        abort: (reason) => this.#abortWrite(reason),
      },
      { highWaterMark: 1 },
    );
  }

  /** True while either direction is still going. */
  get active(): boolean {
    return !this.#released;
  }

  // ----------------------------------------------------------- from the wire

  onData(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#recv !== 'open') return; // after cancel/reset: in-flight data is dropped
    this.#recvTotal += bytes.length;
    if (this.#recvTotal > this.#recvAllowed) {
      this.#hooks.violation(new WormholeError('RemoteProtocol', `peer sent ${this.#recvTotal - this.#recvAllowed} bytes beyond its credit on stream ${this.id}`));
      return;
    }
    this.#hooks.received(bytes.length);
    this.#queue.push(bytes);
    this.#deliver();
  }

  onControl(control: StreamControl): void {
    switch (control.type) {
      case 'credit':
        this.#sendCredit += control.increment;
        this.#wakeWriter();
        return;
      case 'fin':
        if (this.#recv !== 'open') return;
        this.#recv = 'fin';
        this.#byPeer = true;
        this.#deliver();
        return;
      case 'reset':
        if (this.#recv === 'done') return;
        this.#queue.length = 0;
        this.#recv = 'done';
        this.#byPeer = true;
        this.#rc.error(new WormholeError('StreamReset', `the peer aborted the stream: ${control.reason}`));
        this.#maybeRelease();
        return;
      case 'stop': {
        if (this.#send === 'done') return;
        const error = new WormholeError('StreamReset', `the peer stopped reading the stream: ${control.reason}`);
        this.#endSend(error);
        this.#byPeer = true;
        this.#wc.error(error);
        try {
          this.#wire.sendControl({ type: 'reset', reason: 'stopped by the reader' });
        } catch {
          // wire already gone
        }
        this.#maybeRelease();
        return;
      }
    }
  }

  /** The wire or the whole connection died: error whatever is still open. */
  fail(error: WormholeError): void {
    if (this.#recv !== 'done') {
      // A clean FIN already received keeps its data: the reader drains, then sees the end.
      if (this.#recv === 'open') {
        this.#recv = 'done';
        this.#queue.length = 0;
        this.#rc.error(error);
      }
    }
    if (this.#send !== 'done') {
      this.#endSend(error);
      this.#wc.error(error);
    }
    this.#byPeer = true;
    this.#release();
  }

  /** The wire closed: fine if both directions had finished, a failure otherwise. */
  wireClosed(): void {
    if (this.#released) return;
    if (this.#recv === 'open' || this.#send === 'open') {
      this.fail(new WormholeError('StreamReset', `stream ${this.id} was closed before it finished`));
    } else {
      this.#byPeer = true;
      this.#release();
    }
  }

  // ------------------------------------------------------------ read side

  #deliver(): void {
    while (this.#pulling && this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#pulling = false;
      this.#rc.enqueue(chunk);
      this.#consumed(chunk.length);
    }
    if (this.#queue.length === 0 && this.#recv === 'fin') {
      this.#recv = 'done';
      this.#rc.close();
      this.#maybeRelease();
    }
  }

  #consumed(n: number): void {
    if (this.#recv !== 'open') return;
    this.#consumedSinceGrant += n;
    if (this.#consumedSinceGrant >= this.#recvWindow / 4) {
      let increment = this.#consumedSinceGrant;
      this.#consumedSinceGrant = 0;
      const max = this.#wire.maxReceiveWindow ?? 0;
      if (this.#queue.length === 0 && this.#recvWindow < max) {
        // The reader has taken everything that arrived: the window, not the reader, may be what limits.
        const growth = Math.min(this.#recvWindow, max - this.#recvWindow);
        this.#recvWindow += growth;
        increment += growth;
      }
      this.#recvAllowed += increment;
      try {
        this.#wire.sendControl({ type: 'credit', increment });
      } catch {
        // wire gone: the failure reaches us through fail()
      }
    }
  }

  #cancelRead(reason: unknown): void {
    if (this.#recv === 'done') return;
    const wasOpen = this.#recv === 'open';
    this.#recv = 'done';
    if (wasOpen) this.#byPeer = false;
    this.#queue.length = 0;
    if (wasOpen) {
      try {
        this.#wire.sendControl({ type: 'stop', reason: reasonText(reason) });
      } catch {
        // wire gone
      }
    }
    this.#maybeRelease();
  }

  // ------------------------------------------------------------ write side

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('stream chunks must be Uint8Array');
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#sendError) throw this.#sendError;
      if (this.#sendCredit <= 0) {
        await new Promise<void>((resolve) => (this.#creditWaiter = resolve));
        continue;
      }
      const ready = this.#wire.ready();
      if (ready) {
        await ready.catch((cause: unknown) => {
          throw this.#sendError ?? new WormholeError('Closed', 'the connection closed', { cause });
        });
        continue; // re-check credit and errors after waiting
      }
      const n = Math.min(chunk.length - offset, this.#wire.maxChunk, this.#sendCredit);
      this.#wire.sendData(offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n));
      offset += n;
      this.#sendCredit -= n;
      this.#hooks.sent(n);
    }
  }

  async #closeWrite(): Promise<void> {
    if (this.#sendError) throw this.#sendError;
    this.#wire.sendControl({ type: 'fin' });
    this.#byPeer = false;
    this.#endSend(undefined);
    this.#maybeRelease();
  }

  #abortWrite(reason: unknown): void {
    if (this.#send === 'done') return;
    this.#endSend(new WormholeError('Aborted', 'the stream was aborted', { cause: reason }));
    this.#byPeer = false;
    try {
      this.#wire.sendControl({ type: 'reset', reason: reasonText(reason) });
    } catch {
      // wire gone
    }
    this.#maybeRelease();
  }

  #endSend(error: WormholeError | undefined): void {
    this.#send = 'done';
    this.#sendError = error;
    this.#wakeWriter();
  }

  #wakeWriter(): void {
    const w = this.#creditWaiter;
    this.#creditWaiter = undefined;
    w?.();
  }

  // ------------------------------------------------------------ lifetime

  #maybeRelease(): void {
    if (this.#send === 'done' && this.#recv === 'done') this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#wakeWriter();
    this.#hooks.finished(this);
    try {
      this.#wire.release(this.#byPeer);
    } catch {
      // already closed
    }
  }
}
