/**
 * The mailbox server's random names, as Python picks them: mailbox ids
 * (base32 of 8 random bytes) and free nameplates (short ones first).
 */
import type { RandomSource } from '../logger.js';
import { ERR_NO_FREE_NAMEPLATE, MailboxRuleError } from './limits.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Python's generate_mailbox_id: base32 of 8 random bytes, lower case, no padding (13 chars). */
export function mailboxId(random: RandomSource): string {
  const bytes = random(8);
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** A uniform-enough integer in [0, n) from 6 random bytes. */
function randomBelow(random: RandomSource, n: number): number {
  const b = random(6);
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v % n;
}

/**
 * Python's nameplate choice: a random free one among 1–9, else 10–99, else
 * 100–999, else random guesses up to 999999. `taken` says which are in use.
 *
 * @example
 *   pickNameplate(random, new Set(['1', '2']))  // one of '3'…'9'
 */
export function pickNameplate(random: RandomSource, taken: ReadonlySet<string> | ReadonlyMap<string, unknown> | undefined): string {
  for (let lo = 1; lo < 1000; lo *= 10) {
    const free: string[] = [];
    for (let i = lo; i < lo * 10; i++) if (!taken?.has(String(i))) free.push(String(i));
    if (free.length > 0) return free[randomBelow(random, free.length)]!;
  }
  for (let tries = 0; tries < 1000; tries++) {
    const guess = String(1000 + randomBelow(random, 999_000));
    if (!taken?.has(guess)) return guess;
  }
  throw new MailboxRuleError(ERR_NO_FREE_NAMEPLATE);
}
