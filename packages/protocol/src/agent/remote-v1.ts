/**
 * remote-v1: how a paired client and agent that cannot reach each other on
 * 127.0.0.1 meet through a mailbox server with no code typed by anyone.
 * Pure functions, no I/O, no clock (callers pass `now`).
 *
 * Both sides hold the pairing secret S and both identities A (agent) and C
 * (client). Time is cut into windows of `windowMs` (default one hour); for
 * window n both derive, with HKDF-SHA256:
 *
 *   okm = HKDF(ikm = S, salt = "burrow agent remote-v1",
 *              info = "burrow agent remote-v1 rendezvous" ‖ 0 ‖ A ‖ C ‖ u64be(n), 40)
 *   nameplate = 10^14 + (u64be(okm[0..8]) mod 9·10^14)      15 decimal digits
 *   code      = nameplate + "-" + hex(okm[8..40])            the SPAKE2 password
 *
 * and run an ordinary wormhole under the appid `burrow/agent/remote-v1` with
 * that code, then `w.connect()` (WebRTC, else Transit + mux-v1). The SPAKE2
 * proves both hold S (a 256-bit password: no guessing), so nothing else is
 * needed to authenticate; a peer without S ends in `WrongPassword`.
 *
 * Each window has {@link REMOTE_CANDIDATES} candidate rendezvous k = 0, 1, …:
 * candidate 0 is the one above; candidate k > 0 appends u32be(k) to `info`.
 * The client tries them in order, moving on when a nameplate is `Crowded`
 * (someone squats it: a third side); the agent listens on the lowest
 * candidate not known to be squatted and the next one, so a client that
 * moved on still meets it, and the agent learns of the squat from it.
 *
 * What a mailbox observer learns: that some Burrow agent and client met
 * (the appid), and nameplates that are stable within one window and
 * unrelated to the next window's, to each other or to any other pairing's.
 * It cannot tell which pairing it is, nor link two windows, nor predict the
 * next candidate, without S. A mailbox that lists nameplates shows those
 * the agent holds: run it with `--disallow-list` so nobody can.
 *
 * Clocks differ: the client uses its own current window only; the agent
 * listens on every window within `skewMs` of its clock
 * ({@link listenWindows}), so clocks up to `skewMs` apart still meet.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { IDENTITY_RE } from './pairing-record.js';

/** The appid remote reconnects use (both sides must agree; it is not a secret). */
export const REMOTE_APPID = 'burrow/agent/remote-v1';
/** Default rendezvous window: one hour. */
export const DEFAULT_WINDOW_MS = 60 * 60 * 1000;
/** Default clock skew the agent tolerates: five minutes. */
export const DEFAULT_SKEW_MS = 5 * 60 * 1000;
/** Candidate rendezvous per window. */
export const REMOTE_CANDIDATES = 4;

const NAMEPLATE_BASE = 10n ** 14n;
const NAMEPLATE_SPAN = 9n * 10n ** 14n;

export interface RemoteWindowOptions {
  /** Window length in ms (default one hour). */
  readonly windowMs?: number;
  /** Clock difference tolerated, in ms (default five minutes; less than `windowMs`). */
  readonly skewMs?: number;
}

function check(options: RemoteWindowOptions): { windowMs: number; skewMs: number } {
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
  if (!Number.isSafeInteger(windowMs) || windowMs < 1000) throw new RangeError('windowMs must be an integer of at least 1000');
  if (!Number.isSafeInteger(skewMs) || skewMs < 0 || skewMs >= windowMs) throw new RangeError('skewMs must be an integer from 0 to windowMs - 1');
  return { windowMs, skewMs };
}

function checkNow(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) throw new RangeError('now must be a non-negative number of ms since the epoch');
}

/**
 * The window a client uses at `now`.
 *
 * @example
 * rendezvousWindow(Date.now()); // e.g. 489_123
 */
export function rendezvousWindow(now: number, options: RemoteWindowOptions = {}): number {
  checkNow(now);
  return Math.floor(now / check(options).windowMs);
}

/**
 * The windows an agent listens on at `now`: its own, plus the neighbour
 * when `now` is within `skewMs` of a boundary (one or two windows, ascending).
 */
export function listenWindows(now: number, options: RemoteWindowOptions = {}): number[] {
  checkNow(now);
  const { windowMs, skewMs } = check(options);
  const set = new Set([Math.floor(Math.max(0, now - skewMs) / windowMs), Math.floor(now / windowMs), Math.floor((now + skewMs) / windowMs)]);
  return [...set].sort((a, b) => a - b);
}

/** The next time (ms since the epoch, > `now`) at which {@link listenWindows} changes. */
export function nextListenChange(now: number, options: RemoteWindowOptions = {}): number {
  checkNow(now);
  const { windowMs, skewMs } = check(options);
  if (skewMs === 0) return (Math.floor(now / windowMs) + 1) * windowMs;
  const n = Math.floor(now / windowMs);
  // The neighbour is added at (n+1)·W − skew and dropped at n·W + skew; the boundary itself changes nothing.
  const candidates = [n * windowMs + skewMs, (n + 1) * windowMs - skewMs, (n + 1) * windowMs + skewMs].filter((t) => t > now);
  return Math.min(...candidates);
}

export interface Rendezvous {
  /** The window this rendezvous belongs to. */
  readonly window: number;
  /** Which of the window's candidates (0 to {@link REMOTE_CANDIDATES} − 1). */
  readonly candidate: number;
  /** 15 decimal digits: what the mailbox sees. */
  readonly nameplate: string;
  /** `nameplate-<64 hex>`: the SPAKE2 password. Secret: never log it. */
  readonly code: string;
}

/**
 * Derive a code from `key` under `label` for one pairing, window and
 * candidate (see the module comment). Shared by the rendezvous and the
 * revocation notice (revocation-notice.ts).
 *
 * @internal
 */
export function deriveRendezvous(label: string, key: Uint8Array, p: { readonly agentId: string; readonly clientId: string; readonly window: number; readonly candidate?: number }): Rendezvous {
  if (!(key instanceof Uint8Array)) throw new TypeError('secret must be a Uint8Array');
  if (key.length !== 32) throw new RangeError('secret must be 32 bytes');
  if (typeof p?.agentId !== 'string' || !IDENTITY_RE.test(p.agentId)) throw new TypeError('agentId must be 32 lowercase hex characters');
  if (typeof p.clientId !== 'string' || !IDENTITY_RE.test(p.clientId)) throw new TypeError('clientId must be 32 lowercase hex characters');
  if (!Number.isSafeInteger(p.window) || p.window < 0) throw new RangeError('window must be a non-negative safe integer');
  const candidate = p.candidate ?? 0;
  if (!Number.isInteger(candidate) || candidate < 0 || candidate >= REMOTE_CANDIDATES) throw new RangeError(`candidate must be an integer from 0 to ${REMOTE_CANDIDATES - 1}`);
  const counter = new Uint8Array(candidate === 0 ? 8 : 12);
  const view = new DataView(counter.buffer);
  view.setBigUint64(0, BigInt(p.window));
  if (candidate > 0) view.setUint32(8, candidate);
  const info = concatBytes(utf8(label), new Uint8Array([0]), fromHex(p.agentId), fromHex(p.clientId), counter);
  const okm = hkdf(sha256, key, utf8('burrow agent remote-v1'), info, 40);
  const n = new DataView(okm.buffer, okm.byteOffset, 8).getBigUint64(0);
  const nameplate = String(NAMEPLATE_BASE + (n % NAMEPLATE_SPAN));
  const code = `${nameplate}-${toHex(okm.subarray(8))}`;
  okm.fill(0);
  return { window: p.window, candidate, nameplate, code };
}

/**
 * Derive the rendezvous of one pairing for one window and candidate (default 0).
 *
 * @example
 * const { code } = rendezvous(secret, { agentId, clientId, window: rendezvousWindow(Date.now()) });
 * w.setCode(code);
 */
export function rendezvous(secret: Uint8Array, p: { readonly agentId: string; readonly clientId: string; readonly window: number; readonly candidate?: number }): Rendezvous {
  return deriveRendezvous('burrow agent remote-v1 rendezvous', secret, p);
}
