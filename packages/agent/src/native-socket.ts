/**
 * agent-v1's socket over native messaging (native-v1, see
 * `@burrow/protocol/agent`): the WebSocket surface the handshake and the
 * records use, on top of "post one JSON object" and "here is one that
 * arrived". Browser-safe: the extension's side wraps a `runtime.Port`
 * (client/native.ts), the host's side its stdin/stdout (native-host.ts).
 */
import type { JsonObject } from '@burrow/protocol';
import { encodeNativeFrame, parseNativeFrame } from '@burrow/protocol/agent';
import type { SocketLike } from './socket.js';

const OPEN = 1;
const CLOSED = 3;

type Listener = (ev: never) => void;

export class NativeSocket implements SocketLike {
  binaryType = 'arraybuffer';
  readyState = OPEN;
  readonly #post: (message: JsonObject) => void;
  readonly #disconnect: () => void;
  readonly #buffered: () => number;
  readonly #listeners = new Map<string, Set<Listener>>();

  /** `post` sends one object; `disconnect` ends the channel; `buffered` says how many bytes wait to be written. */
  constructor(post: (message: JsonObject) => void, disconnect: () => void, buffered: () => number = () => 0) {
    this.#post = post;
    this.#disconnect = disconnect;
    this.#buffered = buffered;
  }

  get bufferedAmount(): number {
    return this.#buffered();
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== OPEN) return;
    this.#post(encodeNativeFrame(typeof data === 'string' ? { type: 'text', text: data } : { type: 'binary', bytes: data }));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === CLOSED) return;
    try {
      this.#post(encodeNativeFrame({ type: 'close', code, reason }));
    } catch {
      // the channel is gone already
    }
    this.#closed(code, reason);
  }

  /** One object arrived from the other side. */
  receive(value: unknown): void {
    if (this.readyState !== OPEN) return;
    const frame = parseNativeFrame(value);
    if (!frame) return;
    if (frame.type === 'close') return this.#closed(frame.code, frame.reason);
    const data = frame.type === 'text' ? frame.text : frame.bytes.buffer.slice(frame.bytes.byteOffset, frame.bytes.byteOffset + frame.bytes.byteLength);
    this.#emit('message', { data });
  }

  /** The channel ended without a close frame. */
  ended(): void {
    this.#closed(1006, '');
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener);
    this.#listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#emit('close', { code, reason });
    this.#disconnect();
  }

  #emit(type: string, ev: object): void {
    for (const l of [...(this.#listeners.get(type) ?? [])]) (l as (e: object) => void)(ev);
  }
}
