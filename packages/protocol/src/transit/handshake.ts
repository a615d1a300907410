/**
 * The Transit v1 handshake on one candidate connection, sans-I/O
 * (`transit.py` `Connection._dataReceived`). Feed it the bytes the socket
 * delivers; it answers with effects: bytes to send, "the sender must decide
 * now", "established" (with any bytes that already belong to the record
 * stream), or "failed".
 *
 *   relay only:  → please relay TOKEN for side SIDE\n     ← ok\n
 *   both:        → our handshake line                     ← theirs
 *   sender:      the owner calls decide(true)  → go\n         (winner)
 *                               decide(false) → nevermind\n  (loser, then close)
 *   receiver:    ← go\n   (anything else, e.g. nevermind\n, is a failure)
 *
 * Any byte that diverges from what is expected fails at once, as Python's
 * `_check_and_remove` does, so the buffer never grows past one line.
 */

import { WormholeError } from '../errors.js';
import type { TransitKey } from '../keys.js';
import { RELAY_OK, TRANSIT_GO, TRANSIT_NEVERMIND, receiverHandshake, relayHandshake, senderHandshake } from './crypto.js';

export type TransitRole = 'sender' | 'receiver';

export type HandshakeState =
  | 'idle'
  | 'relay-wait-ok'
  | 'wait-handshake'
  | 'wait-decision'
  | 'wait-go'
  | 'established'
  | 'failed';

export type HandshakeEffect =
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  /** Sender only: the peer proved the key on this connection; call `decide()`. */
  | { readonly type: 'decide' }
  /** Records start now; `leftover` bytes already received belong to them. */
  | { readonly type: 'established'; readonly leftover: Uint8Array }
  | { readonly type: 'failed'; readonly error: WormholeError };

export interface HandshakeOptions {
  role: TransitRole;
  key: TransitKey;
  /** Set for a connection to a relay: our 16-hex-char transit side. */
  relaySide?: string;
}

function startsWithPrefix(buf: Uint8Array, expected: Uint8Array): boolean {
  const n = Math.min(buf.length, expected.length);
  for (let i = 0; i < n; i++) if (buf[i] !== expected[i]) return false;
  return true;
}

const printable = (b: Uint8Array): string =>
  JSON.stringify(Array.from(b.subarray(0, 80), (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join(''));

/**
 * @example
 * const hs = new TransitHandshake({ role: 'receiver', key: tk });
 * for (const e of hs.start()) if (e.type === 'send') socket.write(e.bytes);
 * socket.on('data', (d) => handle(hs.receive(d)));
 */
export class TransitHandshake {
  readonly role: TransitRole;
  readonly viaRelay: boolean;
  #state: HandshakeState = 'idle';
  #buf: Uint8Array = new Uint8Array(0);
  readonly #ours: Uint8Array;
  readonly #theirs: Uint8Array;
  readonly #relayLine: Uint8Array | undefined;

  constructor(options: HandshakeOptions) {
    if (options.role !== 'sender' && options.role !== 'receiver') throw new TypeError('role must be "sender" or "receiver"');
    this.role = options.role;
    const s = senderHandshake(options.key);
    const r = receiverHandshake(options.key);
    this.#ours = this.role === 'sender' ? s : r;
    this.#theirs = this.role === 'sender' ? r : s;
    this.#relayLine = options.relaySide === undefined ? undefined : relayHandshake(options.key, options.relaySide);
    this.viaRelay = this.#relayLine !== undefined;
  }

  get state(): HandshakeState {
    return this.#state;
  }

  /** Call once the byte stream is open. */
  start(): HandshakeEffect[] {
    if (this.#state !== 'idle') throw new Error('handshake already started');
    if (this.#relayLine) {
      this.#state = 'relay-wait-ok';
      return [{ type: 'send', bytes: this.#relayLine }];
    }
    this.#state = 'wait-handshake';
    return [{ type: 'send', bytes: this.#ours }];
  }

  /** Bytes from the peer (or relay). After `established` or `failed`, input is ignored. */
  receive(chunk: Uint8Array): HandshakeEffect[] {
    if (this.#state === 'established' || this.#state === 'failed') return [];
    if (this.#state === 'idle') throw new Error('handshake not started');
    if (chunk.length > 0) {
      const next = new Uint8Array(this.#buf.length + chunk.length);
      next.set(this.#buf);
      next.set(chunk, this.#buf.length);
      this.#buf = next;
    }
    const effects: HandshakeEffect[] = [];
    for (;;) {
      switch (this.#state) {
        case 'relay-wait-ok': {
          const r = this.#expect(RELAY_OK, 'relay');
          if (r !== true) return r === false ? effects : [...effects, r];
          this.#state = 'wait-handshake';
          effects.push({ type: 'send', bytes: this.#ours });
          continue;
        }
        case 'wait-handshake': {
          const r = this.#expect(this.#theirs, 'peer handshake');
          if (r !== true) return r === false ? effects : [...effects, r];
          if (this.role === 'sender') {
            this.#state = 'wait-decision';
            effects.push({ type: 'decide' });
            return effects;
          }
          this.#state = 'wait-go';
          continue;
        }
        case 'wait-go': {
          const r = this.#expect(TRANSIT_GO, 'go');
          if (r !== true) return r === false ? effects : [...effects, r];
          this.#state = 'established';
          effects.push({ type: 'established', leftover: this.#take() });
          return effects;
        }
        default:
          // wait-decision: the receiver must not talk before our go; keep its bytes.
          return effects;
      }
    }
  }

  /** Sender only, after a `decide` effect: keep this connection (go) or drop it (nevermind). */
  decide(win: boolean): HandshakeEffect[] {
    if (this.role !== 'sender') throw new Error('only the sender decides');
    if (this.#state !== 'wait-decision') throw new Error(`cannot decide in state ${this.#state}`);
    if (win) {
      this.#state = 'established';
      return [
        { type: 'send', bytes: TRANSIT_GO },
        { type: 'established', leftover: this.#take() },
      ];
    }
    this.#state = 'failed';
    return [
      { type: 'send', bytes: TRANSIT_NEVERMIND },
      { type: 'failed', error: new WormholeError('Connection', 'transit: another connection won', { blame: 'local' }) },
    ];
  }

  /** The peer closed the stream: a failure unless already established. */
  closed(): HandshakeEffect[] {
    if (this.#state === 'established' || this.#state === 'failed') return [];
    const where = this.#describe();
    this.#state = 'failed';
    return [{ type: 'failed', error: new WormholeError('Connection', `transit: connection closed during the handshake (${where})`) }];
  }

  /** true: `expected` consumed; false: need more bytes; else a failure effect. */
  #expect(expected: Uint8Array, what: string): boolean | HandshakeEffect {
    if (!startsWithPrefix(this.#buf, expected)) {
      const got = printable(this.#buf);
      this.#state = 'failed';
      this.#buf = new Uint8Array(0);
      return {
        type: 'failed',
        error: new WormholeError('RemoteProtocol', `transit: bad ${what}: got ${got}`, { blame: what === 'relay' ? 'server' : 'peer' }),
      };
    }
    if (this.#buf.length < expected.length) return false;
    this.#buf = this.#buf.subarray(expected.length);
    return true;
  }

  #take(): Uint8Array {
    const rest = this.#buf.slice();
    this.#buf = new Uint8Array(0);
    return rest;
  }

  #describe(): string {
    return this.#state === 'relay-wait-ok' ? 'waiting for the relay' : 'waiting for the peer';
  }
}
