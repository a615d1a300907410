/**
 * SPAKE2, symmetric mode, byte-compatible with python-spake2 0.8 on Ed25519
 * (what magic-wormhole runs as `SPAKE2_Symmetric(code, idSymmetric=appid)`).
 *
 * Each side sends `0x53 ‖ enc(xy·B + pw·S)`; on receipt of the peer's `Y`
 * it computes `K = xy·(Y − pw·S)` and the key
 * `SHA256(SHA256(pw) ‖ SHA256(id) ‖ min(X, Y) ‖ max(X, Y) ‖ K)`, where X and Y
 * are the 32-byte points without the side byte.
 *
 * Scalars come from big-endian integers reduced mod L: the password through
 * HKDF(info "SPAKE2 pw", 48 bytes), the secret from one `random(64)` call.
 */

import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, compareBytes, concatBytes, equalBytes, utf8 } from './bytes.js';
import { WormholeError } from './errors.js';
import type { SessionKey } from './keys.js';
import { ED25519_CURVE, EdPoint } from './edwards25519.js';

const { p: Q, n: L } = ED25519_CURVE;
const NO_SALT = new Uint8Array(0);

/** Side bytes python-spake2 prefixes to messages. */
const SIDE_A = 0x41;
const SIDE_B = 0x42;
const SIDE_SYMMETRIC = 0x53;

/** Length of a SPAKE2 message on the wire: side byte + 32-byte point. */
export const SPAKE2_MESSAGE_LENGTH = 33;

/** A big-endian integer. */
function bytesToNumberBE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** 32-byte little-endian encoding of `y` (< Q), top bit clear: the point (x even, y). */
function encodeY(y: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, y >>= 8n) out[i] = Number(y & 0xffn);
  return out;
}

/** The result of {@link arbitraryElement}. */
export interface ArbitraryElement {
  /** Encoding of the element (8·point): what python-spake2 uses. */
  readonly element: Uint8Array;
  /** Encoding of the curve point found before clearing the cofactor (x even). */
  readonly pointBeforeCofactor: Uint8Array;
  /** How many times y was incremented before a usable point turned up. */
  readonly increments: number;
}

function findArbitraryElement(seed: Uint8Array): { point: EdPoint; info: ArbitraryElement } {
  const okm = hkdf(sha256, seed, NO_SALT, utf8('SPAKE2 arbitrary element'), 48);
  const yStart = bytesToNumberBE(okm) % Q;
  for (let plus = 0; ; plus++) {
    const encoded = encodeY((yStart + BigInt(plus)) % Q);
    let candidate: EdPoint;
    try {
      candidate = EdPoint.fromBytes(encoded);
    } catch {
      continue; // y is not on the curve (about half of all y)
    }
    const point = candidate.clearCofactor();
    if (point.is0()) continue; // one of the 8 small-order points
    return { point, info: { element: point.toBytes(), pointBeforeCofactor: encoded, increments: plus } };
  }
}

/**
 * python-spake2's `arbitrary_element(seed)`: a point of unknown discrete log.
 * HKDF-SHA256(seed, info "SPAKE2 arbitrary element", 48 bytes) as a big-endian
 * integer mod Q is a y coordinate; y is incremented until (even x, y) is on
 * the curve and its ×8 is not the identity; the result is that ×8.
 *
 * @example
 * toHex(arbitraryElement(utf8('symmetric')).element); // the S blinding element
 */
export function arbitraryElement(seed: Uint8Array): ArbitraryElement {
  abytes(seed, 'seed');
  return findArbitraryElement(seed).info;
}

/**
 * python-spake2's `password_to_scalar(pw)`: HKDF-SHA256(pw, info "SPAKE2 pw",
 * 48 bytes) as a big-endian integer mod L.
 *
 * @example
 * passwordToScalar(utf8('4-purple-sausages')); // bigint in [0, L)
 */
export function passwordToScalar(password: Uint8Array): bigint {
  abytes(password, 'password');
  return bytesToNumberBE(hkdf(sha256, password, NO_SALT, utf8('SPAKE2 pw'), 48)) % L;
}

let symmetricElement: EdPoint | undefined;
/** S, from seed "symmetric"; found on first use, not at import. */
function elementS(): EdPoint {
  return (symmetricElement ??= findArbitraryElement(utf8('symmetric')).point);
}

function remoteError(message: string): WormholeError {
  return new WormholeError('RemoteProtocol', `SPAKE2: ${message}`);
}

/** Check the peer's message (`outbound`: our own point) and return its point. Throws `RemoteProtocol`. */
function parseInbound(inbound: Uint8Array, outbound: Uint8Array): EdPoint {
  if (inbound.length !== SPAKE2_MESSAGE_LENGTH) {
    throw remoteError(`message must be ${SPAKE2_MESSAGE_LENGTH} bytes, got ${inbound.length}`);
  }
  const side = inbound[0]!;
  if (side === SIDE_A || side === SIDE_B) {
    throw remoteError(`symmetric mode, but the message is from side ${String.fromCharCode(side)}`);
  }
  if (side !== SIDE_SYMMETRIC) throw remoteError(`unknown side byte 0x${side.toString(16).padStart(2, '0')}`);
  const encoded = inbound.subarray(1);
  if (equalBytes(encoded, outbound)) throw remoteError('peer reflected our own message back');
  let point: EdPoint;
  try {
    point = EdPoint.fromBytes(encoded); // strict RFC 8032: y < Q, no "-0"
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'SPAKE2: message is not a valid curve point', { cause });
  }
  if (!equalBytes(point.toBytes(), encoded)) throw remoteError('message is not a canonical point encoding');
  if (point.is0()) throw remoteError('message is the identity element');
  if (!point.isTorsionFree()) throw remoteError('message is not in the prime-order subgroup');
  return point;
}

/** Everything {@link Spake2.finishDetailed} computed, for tests and debugging. */
export interface Spake2Details {
  readonly key: SessionKey;
  /** K = xy·(Y − pw·S), encoded. */
  readonly sharedElement: Uint8Array;
  /** SHA256(pw) ‖ SHA256(id) ‖ min(X, Y) ‖ max(X, Y) ‖ K; key = SHA256(transcript). */
  readonly transcript: Uint8Array;
}

/** One side of a symmetric SPAKE2 exchange. */
export interface Spake2 {
  /** The 33 bytes to send: `0x53 ‖ point`. */
  readonly message: Uint8Array;
  /**
   * Combine with the peer's message into the session key. Callable once.
   * Throws `RemoteProtocol` on a malformed, reflected or invalid message,
   * `Usage` on a second call.
   */
  finish(inbound: Uint8Array): SessionKey;
  /** Like {@link Spake2.finish}, also returning K and the transcript. Shares its single use. */
  finishDetailed(inbound: Uint8Array): Spake2Details;
}

export interface Spake2Options {
  /** The shared password: for wormhole, the whole code, NFC, UTF-8. */
  password: Uint8Array;
  /** `idSymmetric`: for wormhole, the appid in UTF-8. */
  id: Uint8Array;
  /** Entropy source; called exactly once with 64. */
  random: (n: number) => Uint8Array;
}

/**
 * Start a symmetric SPAKE2 exchange.
 *
 * @example
 * const s = startSpake2({ password: utf8(code), id: utf8(appid), random });
 * send(s.message);
 * const key = s.finish(peerMessage);
 */
export function startSpake2(options: Spake2Options): Spake2 {
  const { password, id, random } = options;
  abytes(password, 'password');
  abytes(id, 'id');
  if (typeof random !== 'function') throw new TypeError('random must be a function');

  const pwScalar = passwordToScalar(password);
  const entropy = random(64);
  abytes(entropy, 'random(64) result', 64);
  let xyScalar: bigint | undefined = bytesToNumberBE(entropy) % L;
  const pwBlinding = elementS().multiply(pwScalar);
  const outbound = EdPoint.BASE.multiply(xyScalar).add(pwBlinding).toBytes();
  const message = concatBytes(Uint8Array.of(SIDE_SYMMETRIC), outbound);

  const finishDetailed = (inbound: Uint8Array): Spake2Details => {
    abytes(inbound, 'inbound');
    const xy = xyScalar;
    if (xy === undefined) throw new WormholeError('Usage', 'SPAKE2 finish() can only be called once');
    xyScalar = undefined;
    const peer = parseInbound(inbound, outbound);
    const sharedElement = peer.subtract(pwBlinding).multiply(xy).toBytes();
    const theirs = inbound.subarray(1);
    const [first, second] = compareBytes(outbound, theirs) <= 0 ? [outbound, theirs] : [theirs, outbound];
    const transcript = concatBytes(sha256(password), sha256(id), first, second, sharedElement);
    return { key: sha256(transcript) as SessionKey, sharedElement, transcript };
  };

  return { message, finish: (inbound) => finishDetailed(inbound).key, finishDetailed };
}
