/**
 * mux-v1 over an ordered message pipe (one frame per Transit record, or an
 * in-memory pipe): the relay / direct-TCP fallback behind the same
 * `Connection` API. Frame format and rules: `@burrow/protocol` mux.ts.
 */
import { bestEffort, observed } from '@burrow/protocol';
import {
  MUX_INITIAL_WINDOW,
  MUX_MAX_DATA,
  WormholeError,
  MUX_HEADER,
  decodeMuxFrame,
  encodeMuxDataInto,
  encodeMuxFrame,
  muxStreamOpener,
  type MuxFrame,
} from '@burrow/protocol';
import type { CallOptions } from '../wormhole.js';
import { BaseConnection, CLOSE_FLUSH_MS, MAX_INCOMING_STREAMS, settleWithin } from './base.js';
import type { StreamControl, StreamWire } from './stream.js';
import type { ConnectionKind, ConnectRole, DuplexStream } from './types.js';

/** An ordered, reliable pipe of messages (each chunk written arrives as one chunk). */
export interface MessagePipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Tear down both directions now; idempotent. */
  close(): void;
  /**
   * True when every chunk written is copied (sealed) by the time its write
   * settles: the writer may then reuse the chunk's buffer. Transit's Node
   * path does; a pipe that passes chunks on by reference must not say so.
   */
  readonly copiesWrites?: boolean;
  /**
   * Every message that has arrived, at least one, or `null` at the end —
   * instead of `readable`, one await per batch (Transit: per read from its
   * socket) rather than one stream read per message.
   */
  readRecords?(): Promise<Uint8Array[] | null>;
}

/** Spare DATA frame buffers kept for reuse (bounded by the writes in flight: the transit writable holds one). */
const SPARE_FRAMES = 4;

/**
 * Most credit a stream's reader grants (it starts at MUX_INITIAL_WINDOW and
 * grows while the reader keeps up): 2 MiB cannot cover Transit's batches,
 * socket buffers and reads in flight, and the sender stalled on credit.
 */
const MAX_RECEIVE_WINDOW = 16 * 1024 * 1024;

export interface MuxConnectionInit {
  pipe: MessagePipe;
  role: ConnectRole;
  kind: ConnectionKind;
  /** For getStats, e.g. `->relay:ws://127.0.0.1:4000/relay`. */
  path: string;
}

export class MuxConnection extends BaseConnection {
  readonly kind: ConnectionKind;
  readonly #pipe: MessagePipe;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #role: ConnectRole;
  readonly #path: string;
  #nextId: number;
  #highestPeerId = 0;
  #closing = false;
  /** DATA frame buffers whose writes settled (pipes that copy writes only): no 64 KiB allocation per frame. */
  readonly #spare: Uint8Array[] = [];

  constructor(init: MuxConnectionInit) {
    super(MUX_INITIAL_WINDOW);
    this.kind = init.kind;
    this.#pipe = init.pipe;
    this.#role = init.role;
    this.#path = init.path;
    this.#nextId = init.role === 'leader' ? 1 : 2;
    this.#writer = init.pipe.writable.getWriter();
    this.#writer.closed.catch(observed);
    void this.#pump();
  }

  async openStream(options: CallOptions = {}): Promise<DuplexStream> {
    await this.assertOpen(options);
    const id = this.#nextId;
    this.#nextId += 2;
    this.#frame({ type: 'open', id });
    return this.createStream(id, this.#wire(id));
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.isClosed) return this.closed.catch(bestEffort); // close() resolves once closed, however it closed
    this.#closing = true;
    this.#frame({ type: 'goaway', reason });
    this.finish();
    // Flush what was written (the goodbye included), but do not wait on a peer that stopped reading.
    await settleWithin(this.#writer.close(), CLOSE_FLUSH_MS);
    this.#pipe.close();
  }

  protected describe(): Promise<{ path: string }> {
    return Promise.resolve({ path: this.#path });
  }

  protected sendPing(nonce: number): boolean {
    this.#frame({ type: 'ping', nonce });
    return true;
  }

  protected release(): void {
    if (!this.#closing) {
      this.#writer.abort().catch(bestEffort);
      this.#pipe.close();
    }
  }

  #frame(frame: Exclude<MuxFrame, { type: 'unknown' }>): void {
    if (this.isClosed && frame.type !== 'goaway') throw new WormholeError('Closed', 'the connection is closed');
    this.#writer.write(encodeMuxFrame(frame)).catch(this.#lost);
  }

  /** One DATA frame; into a reused buffer when the pipe copies what it is given. */
  #data(id: number, data: Uint8Array): void {
    if (!this.#pipe.copiesWrites) return this.#frame({ type: 'data', id, data });
    if (this.isClosed) throw new WormholeError('Closed', 'the connection is closed');
    const buffer = this.#spare.pop() ?? new Uint8Array(MUX_HEADER + MUX_MAX_DATA);
    const n = encodeMuxDataInto(buffer, id, data);
    this.#writer.write(buffer.subarray(0, n)).then(() => {
      if (this.#spare.length < SPARE_FRAMES) this.#spare.push(buffer);
    }, this.#lost);
  }

  readonly #lost = (cause: unknown): void => {
    if (!this.#closing) this.fail(new WormholeError('Connection', 'the connection to the peer was lost while sending', { cause }));
  };

  #wire(id: number): StreamWire {
    return {
      maxChunk: MUX_MAX_DATA,
      maxReceiveWindow: MAX_RECEIVE_WINDOW,
      sendData: (data) => this.#data(id, data),
      sendControl: (c: StreamControl) => this.#frame(c.type === 'credit' ? { type: 'credit', id, increment: c.increment } : c.type === 'fin' ? { type: 'fin', id } : { type: c.type, id, reason: c.reason }),
      ready: () => {
        if (this.isClosed) return Promise.reject(new WormholeError('Closed', 'the connection is closed'));
        const size = this.#writer.desiredSize;
        return size !== null && size > 0 ? undefined : this.#writer.ready;
      },
      release: () => {
        /* nothing held: readiness is read from the writer each time */
      },
    };
  }

  async #pump(): Promise<void> {
    const pipe = this.#pipe;
    const reader = pipe.readRecords ? undefined : pipe.readable.getReader();
    const next = async (): Promise<Uint8Array[] | null> => {
      if (!reader) return pipe.readRecords!();
      const r = await reader.read();
      return r.done ? null : [r.value];
    };
    try {
      for (;;) {
        const frames = await next();
        if (frames === null) {
          if (!this.isClosed) this.fail(new WormholeError('Connection', 'the peer connection ended without a goodbye'));
          return;
        }
        for (const f of frames) {
          this.#onFrame(decodeMuxFrame(f));
          if (this.isClosed) return;
        }
      }
    } catch (cause) {
      if (this.isClosed) return;
      this.fail(cause instanceof WormholeError ? cause : new WormholeError('Connection', 'the connection to the peer was lost', { cause }));
    } finally {
      reader?.releaseLock();
    }
  }

  #onFrame(frame: MuxFrame): void {
    switch (frame.type) {
      case 'unknown':
        return;
      case 'ping':
        this.#frame({ type: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        this.pong(frame.nonce);
        return;
      case 'goaway':
        this.finish();
        this.#pipe.close();
        return;
      case 'open': {
        const ours = muxStreamOpener(frame.id) === this.#role;
        if (ours || frame.id <= this.#highestPeerId) throw new WormholeError('RemoteProtocol', `mux-v1: peer opened stream ${frame.id} out of order`);
        if (this.incomingCount() >= MAX_INCOMING_STREAMS) throw new WormholeError('RemoteProtocol', `mux-v1: peer opened more than ${MAX_INCOMING_STREAMS} streams`);
        this.#highestPeerId = frame.id;
        this.accept(this.createStream(frame.id, this.#wire(frame.id)));
        return;
      }
      default: {
        const stream = this.streams.get(frame.id);
        if (!stream) {
          const known = muxStreamOpener(frame.id) === this.#role ? frame.id < this.#nextId : frame.id <= this.#highestPeerId;
          if (!known) throw new WormholeError('RemoteProtocol', `mux-v1: frame for stream ${frame.id} that was never opened`);
          return; // a finished stream: late frames are dropped
        }
        if (frame.type === 'data') stream.onData(frame.data);
        else if (frame.type === 'credit') stream.onControl({ type: 'credit', increment: frame.increment });
        else if (frame.type === 'fin') stream.onControl({ type: 'fin' });
        else stream.onControl({ type: frame.type, reason: frame.reason });
      }
    }
  }
}

/**
 * Two connected in-memory pipes (for tests and the in-memory connector).
 * `capacity` frames may be queued in each direction before writes wait.
 */
export function memoryPipePair(capacity = 16): [MessagePipe, MessagePipe] {
  const make = () => {
    let controller!: TransformStreamDefaultController<Uint8Array>;
    const t = new TransformStream<Uint8Array, Uint8Array>({ start: (c) => void (controller = c) }, { highWaterMark: capacity }, { highWaterMark: 0 });
    return { t, terminate: () => controller.terminate() };
  };
  const ab = make();
  const ba = make();
  // Like a socket: closing either end ends both directions (queued frames are still delivered).
  const close = () => {
    ab.terminate();
    ba.terminate();
  };
  return [
    { readable: ba.t.readable, writable: ab.t.writable, close },
    { readable: ab.t.readable, writable: ba.t.writable, close },
  ];
}

/** Two in-memory connections joined to each other (kind `direct`, path `memory`). */
export function memoryConnectionPair(): [MuxConnection, MuxConnection] {
  const [a, b] = memoryPipePair();
  return [
    new MuxConnection({ pipe: a, role: 'leader', kind: 'direct', path: 'memory' }),
    new MuxConnection({ pipe: b, role: 'follower', kind: 'direct', path: 'memory' }),
  ];
}
