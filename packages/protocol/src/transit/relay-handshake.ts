/**
 * The transit relay's handshake line, both ends, sans I/O. Clients write it
 * with {@link relayLine} (via `relayHandshake` in ./crypto.ts) and wait for
 * {@link RELAY_OK}; the relay judges it as wormhole_transit_relay 0.2.1
 * (transit_server.py) reads it:
 *
 *   new: "please relay {64 word chars} for side {16 word chars}\n"   (104 bytes)
 *   old: "please relay {64 word chars}\n"                            (78 bytes)
 *
 * Bytes arrive in pieces; {@link checkHandshake} looks at everything
 * received so far and says whether to keep waiting, refuse it ("bad
 * handshake"), refuse the client for sending past its handshake before the
 * relay said ok ("impatient"), or accept it. The decision follows Python's
 * `_check_old_handshake` / `_check_new_handshake` step for step, including
 * when a short line with a newline is rejected early and when a buffer is
 * long enough to judge. "Word chars" are Python's bytes-regex `\w`:
 * [A-Za-z0-9_].
 */
import { ascii } from '../bytes.js';

export type HandshakeResult =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'bad' }
  | { readonly kind: 'impatient' }
  /** `side` is null for the old (unsided) form, which matches any side. */
  | { readonly kind: 'ok'; readonly token: string; readonly side: string | null };

const PLEASE_RELAY = 'please relay ';
const FOR_SIDE = ' for side ';
const OLD_LENGTH = PLEASE_RELAY.length + 64 + 1;
const NEW_LENGTH = PLEASE_RELAY.length + 64 + FOR_SIDE.length + 16 + 1;
/** Nothing longer can ever be a handshake still in progress. */
export const MAX_HANDSHAKE_BYTES = NEW_LENGTH;

const NEWLINE = 0x0a;
const OLD_RE = new RegExp(`${PLEASE_RELAY}(\\w{64})\\n`, 'y');
const NEW_RE = new RegExp(`${PLEASE_RELAY}(\\w{64})${FOR_SIDE}(\\w{16})\\n`, 'y');

/**
 * The client's line, as text: `please relay TOKEN for side SIDE\n` (callers
 * check TOKEN and SIDE; see `relayHandshake`).
 */
export function relayLine(tokenHex: string, side: string): string {
  return `${PLEASE_RELAY}${tokenHex}${FOR_SIDE}${side}\n`;
}

type Check = { readonly state: 'yes'; readonly groups: readonly string[] } | { readonly state: 'waiting' | 'no' };

/** Python's `re.search(b"^…", buf, re.M)`: try at the start and after every "\n" (only "\n"). */
function searchLineStarts(re: RegExp, text: string): string[] | undefined {
  for (let at = 0; ; ) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m) return m.slice(1);
    const newline = text.indexOf('\n', at);
    if (newline < 0) return undefined;
    at = newline + 1;
  }
}

function check(buf: Uint8Array, text: () => string, wanted: number, re: RegExp): Check {
  if (buf.length < wanted - 1 && buf.includes(NEWLINE)) return { state: 'no' };
  if (buf.length < wanted) return { state: 'waiting' };
  const groups = searchLineStarts(re, text());
  return groups ? { state: 'yes', groups } : { state: 'no' };
}

/**
 * Judge the bytes received so far.
 *
 * @example
 *   checkHandshake(bytes(`please relay ${'ab'.repeat(32)} for side ${'0'.repeat(16)}\n`))
 *   // → { kind: 'ok', token: 'abab…', side: '0000000000000000' }
 */
export function checkHandshake(buf: Uint8Array): HandshakeResult {
  let decoded: string | undefined;
  // latin1: one char per byte, so regex positions are byte positions.
  const text = (): string => (decoded ??= latin1(buf));
  const old = check(buf, text, OLD_LENGTH, OLD_RE);
  if (old.state === 'yes') {
    if (buf.length > OLD_LENGTH) return { kind: 'impatient' };
    return { kind: 'ok', token: old.groups[0]!, side: null };
  }
  const sided = check(buf, text, NEW_LENGTH, NEW_RE);
  if (sided.state === 'yes') {
    if (buf.length > NEW_LENGTH) return { kind: 'impatient' };
    return { kind: 'ok', token: sided.groups[0]!, side: sided.groups[1]! };
  }
  if (old.state === 'no' && sided.state === 'no') return { kind: 'bad' };
  return { kind: 'waiting' };
}

function latin1(buf: Uint8Array): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 4096) out += String.fromCharCode(...buf.subarray(i, i + 4096));
  return out;
}

/** The relay's answer once both sides of a token are connected; piping starts after it. */
export const RELAY_OK: Uint8Array = ascii('ok\n');
/** The relay's refusals (each ends the line, then the connection). */
export const RELAY_BAD_HANDSHAKE: Uint8Array = ascii('bad handshake\n');
export const RELAY_IMPATIENT: Uint8Array = ascii('impatient\n');
