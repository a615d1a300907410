/**
 * Hashcash v1 stamps, as the mailbox server's `permission-required`
 * uses them (magic-wormhole-mailbox-server `permission.py`,
 * magic-wormhole.rs `util::hashcash`): a stamp is
 * `1:BITS:DATE:RESOURCE::RAND:COUNTER` whose SHA-1 starts with at least
 * BITS zero bits. The server names the resource (fresh per connection) and
 * the bits in its welcome; the client searches counters until one works.
 *
 * Sans I/O: the caller passes the time and the random bytes, and runs the
 * search in slices ({@link searchStamp}) where it likes (a Worker, or the
 * main thread between yields).
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { ascii, toBase64, utf8 } from './bytes.js';

/** What the server asks for: a stamp over `resource` with at least `bits` zero bits. */
export interface HashcashChallenge {
  readonly resource: string;
  readonly bits: number;
}

/** The most bits a client will try (2^32 hashes is hours of work; a server asking for more is refused). */
export const MAX_HASHCASH_BITS = 32;
/** Longest stamp a server looks at (characters). */
export const MAX_STAMP_CHARS = 512;

const DAY_MS = 86_400_000;

/**
 * Leading zero bits of `bytes` (Python's `leading_zero_bits`).
 *
 * @example
 *   leadingZeroBits(new Uint8Array([0x00, 0x0f])) // → 12
 */
export function leadingZeroBits(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

/** The zero bits a stamp actually has (of its SHA-1 over UTF-8). */
export function stampBits(stamp: string): number {
  return leadingZeroBits(sha1(utf8(stamp)));
}

/**
 * The stamp's date field for `ms` (UTC `YYMMDD`, hashcash's own format).
 *
 * @example
 *   hashcashDate(Date.UTC(2025, 0, 31)) // → '250131'
 */
export function hashcashDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate());
}

/** Everything of a stamp but the counter: `1:BITS:DATE:RESOURCE::RAND:`. */
export function stampPrefix(challenge: HashcashChallenge, nowMs: number, rand: Uint8Array): string {
  checkChallenge(challenge);
  return `1:${challenge.bits}:${hashcashDate(nowMs)}:${challenge.resource}::${toBase64(rand)}:`;
}

/**
 * Try counters `from`, `from + 1`, … (`count` of them) after `prefix`;
 * returns the first stamp with `bits` zero bits, or where to go on.
 * Counters are lowercase hex.
 */
export function searchStamp(prefix: string, bits: number, from: number, count: number): { readonly stamp?: string; readonly next: number } {
  if (!Number.isSafeInteger(from) || from < 0) throw new RangeError('from must be a non-negative integer');
  const head = utf8(prefix);
  const buf = new Uint8Array(head.length + 16);
  buf.set(head);
  const end = from + count;
  for (let counter = from; counter < end; counter++) {
    const digits = counter.toString(16);
    for (let i = 0; i < digits.length; i++) buf[head.length + i] = digits.charCodeAt(i);
    if (leadingZeroBits(sha1(buf.subarray(0, head.length + digits.length))) >= bits) return { stamp: prefix + digits, next: counter + 1 };
  }
  return { next: end };
}

/** What the server checks a stamp against. */
export interface StampExpectation extends HashcashChallenge {
  /** The server's time (ms since the epoch). */
  readonly now: number;
  /** How far the stamp's date may be from `now` (default two days: dates are days, clocks and zones differ). */
  readonly windowMs?: number;
}

/**
 * Why `stamp` is not a valid answer to the challenge, or `undefined` if it
 * is. Checks the shape, version, resource, claimed and real bits, and that
 * the date is near `now`; accepts `YYMMDD[hhmm[ss]]` and, as
 * magic-wormhole.rs sends it, base64 of `YYYYMMDD`.
 */
export function stampProblem(stamp: unknown, expect: StampExpectation): string | undefined {
  if (typeof stamp !== 'string') return 'the stamp is not a string';
  if (stamp.length > MAX_STAMP_CHARS) return 'the stamp is too long';
  const fields = stamp.split(':');
  if (fields.length !== 7) return 'the stamp does not have 7 fields';
  const [version, claimed, date, resource] = fields as [string, string, string, string];
  if (version !== '1') return 'the stamp is not version 1';
  if (resource !== expect.resource) return 'the stamp is for another resource';
  if (!/^\d{1,3}$/.test(claimed) || Number(claimed) < expect.bits) return `the stamp claims fewer than ${expect.bits} bits`;
  if (!dateNear(date, expect.now, expect.windowMs ?? 2 * DAY_MS)) return 'the stamp is not dated today';
  if (stampBits(stamp) < Number(claimed)) return 'the stamp does not have the bits it claims';
  return undefined;
}

function dateNear(date: string, now: number, windowMs: number): boolean {
  const standard = /^\d{6}(\d{4}(\d{2})?)?$/.test(date) ? date.slice(0, 6) : undefined;
  const last = Math.floor((now + windowMs) / DAY_MS);
  for (let d = Math.floor((now - windowMs) / DAY_MS); d <= last; d++) {
    const day = hashcashDate(d * DAY_MS);
    if (standard === day || date === toBase64(ascii(`20${day}`))) return true;
  }
  return false;
}

function checkChallenge(c: HashcashChallenge): void {
  if (typeof c.resource !== 'string' || c.resource.includes(':')) throw new TypeError('challenge.resource must be a string without ":"');
  if (!Number.isInteger(c.bits) || c.bits < 0 || c.bits > MAX_HASHCASH_BITS) throw new RangeError(`challenge.bits must be an integer from 0 to ${MAX_HASHCASH_BITS}`);
}
