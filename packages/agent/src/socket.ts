/**
 * One WebSocket (the browser's, or `ws` in Node) seen two ways: first as a
 * queue of handshake messages, then, once both sides proved the pairing, as
 * an encrypted message pipe carrying mux-v1 frames plus control messages
 * (agent-v1, see `@burrow/protocol/agent`). Writes wait while `bufferedAmount` is above a high
 * watermark (polled: not every implementation fires an event when it drains).
 */
import { RecordDecoder, RecordEncoder, WormholeError, concatBytes, type RecordKey } from '@burrow/protocol';
import { CLOSE_CODES, MAX_RECORD, encodeMuxBody, errorForClose, parseRecordBody, type ControlMessage } from '@burrow/protocol/agent';
import type { MessagePipe } from '@burrow/client';

/** The part of the WebSocket API both the browser and `ws` implement. */
export interface SocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (ev: never) => void): void;
  removeEventListener(type: string, listener: (ev: never) => void): void;
}

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const OPEN = 1;

type Received = string | Uint8Array;

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return concatBytes(...(data as Uint8Array[])); // ws 'nodebuffer' fragments
  return undefined;
}

export interface SessionPipe extends MessagePipe {
  /** Send a control message (tag 0x01). */
  sendControl(body: Uint8Array): void;
}

export class AgentSocket {
  readonly socket: SocketLike;
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #queue: Received[] = [];
  readonly #waiters: { resolve: (m: Received) => void; reject: (e: unknown) => void }[] = [];
  #closeInfo: { code: number; reason: string } | undefined;
  #onRecord: ((bytes: Uint8Array) => void) | undefined;
  #onClose: ((info: { code: number; reason: string }) => void) | undefined;
  #resolveClosed!: (info: { code: number; reason: string }) => void;
  readonly #listeners: [string, (ev: never) => void][] = [];

  constructor(socket: SocketLike) {
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#listen('message', (ev: { data: unknown }) => {
      const data = typeof ev.data === 'string' ? ev.data : toBytes(ev.data);
      if (data === undefined) return;
      if (this.#onRecord) {
        if (typeof data === 'string') this.#onRecord(new Uint8Array(0)); // text after the handshake: a protocol error below
        else this.#onRecord(data);
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(data);
      else this.#queue.push(data);
    });
    this.#listen('close', (ev: { code?: number; reason?: string }) => this.#closedWith({ code: ev.code ?? 1006, reason: String(ev.reason ?? '') }));
    this.#listen('error', () => this.#closedWith({ code: 1006, reason: '' }));
  }

  get isOpen(): boolean {
    return this.#closeInfo === undefined && this.socket.readyState === OPEN;
  }

  /** The next handshake message; rejects when the socket closes first or `signal` fires. */
  next(signal?: AbortSignal): Promise<Received> {
    const ready = this.#queue.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closeInfo) return Promise.reject(this.#closeError(this.#closeInfo));
    return new Promise<Received>((resolve, reject) => {
      const waiter = {
        resolve: (m: Received) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason instanceof WormholeError ? signal.reason : new WormholeError('Timeout', 'the agent handshake took too long', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  sendText(text: string): void {
    if (this.isOpen) this.socket.send(text);
  }

  close(code = 1000, reason = ''): void {
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      // already closing
    }
  }

  /**
   * Switch to records: from now on every binary message is decrypted with
   * `receiveKey`; tag 0x00 bodies come out of the pipe's readable, tag 0x01
   * go to `onControl`. A close with one of our codes errors the readable with
   * the matching WormholeError.
   */
  records(sendKey: RecordKey, receiveKey: RecordKey, onControl: (message: ControlMessage) => void): SessionPipe {
    const encoder = new RecordEncoder(sendKey);
    const decoder = new RecordDecoder(receiveKey, { maxRecordLength: MAX_RECORD });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let done = false;
    const finish = (error?: WormholeError) => {
      if (done) return;
      done = true;
      try {
        if (error) controller.error(error);
        else controller.close();
      } catch {
        // already finished
      }
    };
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      cancel: () => this.close(),
    });
    this.#onRecord = (bytes) => {
      if (done) return;
      try {
        for (const record of decoder.push(bytes)) {
          const body = parseRecordBody(record);
          if (body.type === 'mux') controller.enqueue(body.frame);
          else if (body.type === 'control') onControl(body.message);
        }
        if (bytes.length === 0) throw new WormholeError('RemoteProtocol', 'agent-v1: text message after the handshake');
      } catch (err) {
        finish(err instanceof WormholeError ? err : new WormholeError('RemoteProtocol', 'agent-v1: bad record', { cause: err }));
        this.close(CLOSE_CODES['RemoteProtocol'], 'bad record');
      }
    };
    this.#onClose = (info) => finish(errorForClose(info.code, info.reason));
    if (this.#closeInfo) this.#onClose(this.#closeInfo);
    for (const queued of this.#queue.splice(0)) if (typeof queued !== 'string') this.#onRecord(queued);

    const send = (plaintext: Uint8Array) => {
      if (!this.isOpen) throw new WormholeError('Connection', 'the agent connection is closed');
      this.socket.send(encoder.encode(plaintext));
    };
    const writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        send(encodeMuxBody(chunk));
        if (this.socket.bufferedAmount > HIGH_WATER) {
          while (this.socket.bufferedAmount > LOW_WATER && this.isOpen) await new Promise((r) => setTimeout(r, 5));
        }
      },
      close: () => {
        /* the write side ends with the session: mux-v1 ends each stream itself */
      },
      abort: () => this.close(),
    });
    return {
      readable,
      writable,
      close: () => this.close(),
      sendControl: (body) => send(body),
    };
  }

  #closedWith(info: { code: number; reason: string }): void {
    if (this.#closeInfo) return;
    this.#closeInfo = info;
    for (const [type, listener] of this.#listeners) this.socket.removeEventListener(type, listener);
    for (const w of this.#waiters.splice(0)) w.reject(this.#closeError(info));
    this.#onClose?.(info);
    this.#resolveClosed(info);
  }

  #closeError(info: { code: number; reason: string }): WormholeError {
    return errorForClose(info.code, info.reason) ?? new WormholeError('Connection', `the agent connection closed (${info.code}${info.reason ? `: ${info.reason}` : ''})`);
  }

  #listen<E>(type: string, listener: (ev: E) => void): void {
    const l = listener as (ev: never) => void;
    this.#listeners.push([type, l]);
    this.socket.addEventListener(type, l);
  }
}
