/**
 * Wormhole codes: `<nameplate>-<word>[-<word>…]`, e.g. `4-purple-sausages`.
 *
 * The nameplate is a decimal number the mailbox server allocated; the words
 * are the secret. The whole code (NFC, UTF-8) is the SPAKE2 password, so it
 * is compared exactly: case matters and words need not come from the PGP
 * list (`wormhole send --code 7-my-own-phrase` is legal). Generated codes use
 * lowercase PGP words, odd list first, then alternating (see wordlist.ts).
 *
 * Nothing here does I/O or draws randomness of its own: `generateCode` takes
 * a `random(n)` function, and completion takes the nameplate list as data.
 *
 * Error messages never repeat the code: it is a secret and messages end up in
 * logs.
 */

import { abytes } from './bytes.js';
import { WormholeError } from './errors.js';
import { codeWords, parityAt, wordForByte } from './wordlist.js';

/** Longest code (in UTF-16 code units, after NFC) that `parseCode` accepts. */
export const MAX_CODE_LENGTH = 1000;

/** Most words `generateCode` will produce; far more than anyone can type. */
export const MAX_CODE_WORDS = 64;

/** What magic-wormhole's completer assumes when it is not told the code length. */
export const DEFAULT_COMPLETION_WORDS = 2;

/** A code split into its parts. `code` is the normalized whole, the SPAKE2 password. */
export interface ParsedCode {
  /** The NFC form of the input; equal to `nameplate + '-' + words.join('-')`. */
  readonly code: string;
  /** The nameplate: one or more ASCII digits, as typed (leading zeros kept). */
  readonly nameplate: string;
  /** The words after the nameplate, at least one, none empty, as typed. */
  readonly words: readonly string[];
}

/** Options for {@link completeCode}. */
export interface CompleteCodeOptions {
  /** The nameplates currently active on the mailbox server (from its `nameplates` message). */
  readonly nameplates: Iterable<string>;
  /** How many words the code is expected to have; decides the trailing hyphen. Default 2. */
  readonly words?: number;
}

const NAMEPLATE_RE = /^[0-9]+$/;
// Whitespace and control characters are invisible in a prompt: never part of a code.
const INVISIBLE_RE = /[\s\p{Cc}]/u;

const EXAMPLE = 'like 4-purple-sausages';

function invalid(message: string): WormholeError {
  return new WormholeError('InvalidCode', message);
}

/**
 * Unicode NFC, which magic-wormhole applies to the code before using it as
 * the SPAKE2 password (`util.to_bytes`). Two codes that look the same but
 * were typed with composed vs decomposed accents become the same string.
 *
 * @example
 * ```ts
 * normalizeCode('4-cafe\u0301'); // '4-caf\u00e9'
 * ```
 */
export function normalizeCode(code: string): string {
  if (typeof code !== 'string') throw new TypeError('code must be a string');
  return code.normalize('NFC');
}

/** True if `nameplate` is a non-empty string of ASCII digits. */
export function isValidNameplate(nameplate: string): boolean {
  return typeof nameplate === 'string' && NAMEPLATE_RE.test(nameplate);
}

/**
 * Check a code and split it into nameplate and words. Throws
 * `WormholeError('InvalidCode')` with a message for people when the code is
 * empty, longer than {@link MAX_CODE_LENGTH}, contains whitespace or control
 * characters, lacks the hyphen after the nameplate, has a nameplate that is
 * not all digits, or has an empty word (two hyphens in a row, a trailing
 * hyphen).
 *
 * This is stricter than magic-wormhole's `validate_code`, which refuses only
 * U+0020 spaces and non-numeric nameplates: a code that passes here also
 * passes there.
 *
 * @example
 * ```ts
 * parseCode('4-purple-sausages');
 * // { code: '4-purple-sausages', nameplate: '4', words: ['purple', 'sausages'] }
 * ```
 */
export function parseCode(code: string): ParsedCode {
  if (typeof code !== 'string') throw new TypeError('code must be a string');
  // Bound before normalizing (NFC work is linear, but don't do it for megabytes)
  // and after (normalization can change the length).
  if (code.length > MAX_CODE_LENGTH) {
    throw invalid(`The code is too long (over ${MAX_CODE_LENGTH} characters).`);
  }
  const normalized = normalizeCode(code);
  if (normalized.length > MAX_CODE_LENGTH) {
    throw invalid(`The code is too long (over ${MAX_CODE_LENGTH} characters).`);
  }
  if (normalized.length === 0) {
    throw invalid(`The code is empty: expected a number and words separated by hyphens, ${EXAMPLE}.`);
  }
  if (INVISIBLE_RE.test(normalized)) {
    throw invalid(
      `The code contains spaces or other invisible characters: separate the number and words with hyphens, ${EXAMPLE}.`,
    );
  }
  const [nameplate = '', ...words] = normalized.split('-');
  if (words.length === 0) {
    throw invalid(`The code has no hyphen: expected a number, a hyphen and words, ${EXAMPLE}.`);
  }
  if (!NAMEPLATE_RE.test(nameplate)) {
    throw invalid(`The code must start with a number (digits 0-9 only) and a hyphen, ${EXAMPLE}.`);
  }
  if (words.length === 1 && words[0] === '') {
    throw invalid(`The code has no words after the number, ${EXAMPLE}.`);
  }
  if (words.some((w) => w.length === 0)) {
    throw invalid(`The code has an empty word (a trailing hyphen or two hyphens in a row), ${EXAMPLE}.`);
  }
  return { code: normalized, nameplate, words };
}

/**
 * Build a code for an allocated nameplate the way magic-wormhole does
 * (`PGPWordList.choose_words`): one random byte per word, the first word from
 * the odd (three-syllable) list, then alternating, all lowercase.
 *
 * Calls `random(words)` exactly once and uses its bytes in order.
 *
 * @example
 * ```ts
 * generateCode('4', 2, () => new Uint8Array([0x00, 0xff])); // '4-adroitness-zulu'
 * ```
 */
export function generateCode(nameplate: string, words: number, random: (n: number) => Uint8Array): string {
  if (typeof nameplate !== 'string') throw new TypeError('nameplate must be a string');
  if (!Number.isSafeInteger(words)) throw new TypeError(`words must be an integer, got ${String(words)}`);
  if (words < 1 || words > MAX_CODE_WORDS) {
    throw new RangeError(`words must be between 1 and ${MAX_CODE_WORDS}, got ${words}`);
  }
  if (typeof random !== 'function') throw new TypeError('random must be a function');
  if (!NAMEPLATE_RE.test(nameplate)) {
    throw invalid('The nameplate must be a number (digits 0-9 only).');
  }
  const bytes = random(words);
  abytes(bytes, `random(${words})`, words);
  const parts = [nameplate];
  for (let i = 0; i < words; i++) parts.push(wordForByte(bytes[i]!, i));
  const code = parts.join('-');
  if (code.length > MAX_CODE_LENGTH) {
    throw invalid(`The nameplate is too long: the code would exceed ${MAX_CODE_LENGTH} characters.`);
  }
  return code;
}

/**
 * Tab completion for a partly typed code, as `wormhole receive` offers it.
 * Returns full candidate strings, sorted (by UTF-16 code unit, which for
 * these ASCII candidates is Python's `sorted`).
 *
 * - No hyphen yet (`''`, `'1'`): every active nameplate that starts with the
 *   prefix, each followed by `-`.
 * - After the hyphen: words that start with the last partial word, from the
 *   odd list when an even number of hyphens precede it among the words (first
 *   word odd, second even, …). A `-` is appended while more words are
 *   expected (`words` option, default 2, as the CLI never passes the code
 *   length). A complete prefix completes to itself (plus `-` if more words
 *   are expected); typing past the expected count keeps alternating.
 * - Matching is case-sensitive, like the CLI: `'4-Adr'` has no completions.
 * - An invalid nameplate before the hyphen gives no completions (the CLI's
 *   completer raises there and readline shows nothing), and so does a prefix
 *   longer than {@link MAX_CODE_LENGTH}. Active nameplates that are not all
 *   digits are never offered, since they could not be used.
 *
 * Unlike the CLI this is stateless: it does not remember that a nameplate was
 * already claimed. The caller does that if it needs to.
 *
 * @example
 * ```ts
 * completeCode('1', { nameplates: ['12', '3', '15'] }); // ['12-', '15-']
 * completeCode('12-adr', { nameplates: [] }); // ['12-adroitness-']
 * completeCode('12-adroitness-aa', { nameplates: [] }); // ['12-adroitness-aardvark']
 * ```
 */
export function completeCode(prefix: string, options: CompleteCodeOptions): string[] {
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const expectedWords = options.words ?? DEFAULT_COMPLETION_WORDS;
  if (!Number.isSafeInteger(expectedWords) || expectedWords < 1) {
    throw new RangeError(`options.words must be a positive integer, got ${String(expectedWords)}`);
  }
  if (prefix.length > MAX_CODE_LENGTH) return [];

  const hyphen = prefix.indexOf('-');
  if (hyphen === -1) {
    const out = new Set<string>();
    for (const nameplate of options.nameplates) {
      if (isValidNameplate(nameplate) && nameplate.startsWith(prefix)) out.add(`${nameplate}-`);
    }
    return [...out].sort();
  }

  const nameplate = prefix.slice(0, hyphen);
  if (!NAMEPLATE_RE.test(nameplate)) return [];
  const typedWords = prefix.slice(hyphen + 1);
  const lastHyphen = typedWords.lastIndexOf('-');
  const position = typedWords.split('-').length - 1; // hyphens among the words = index of the word being typed
  const head = prefix.slice(0, hyphen + 1 + lastHyphen + 1); // everything before the partial word
  const partial = typedWords.slice(lastHyphen + 1);
  const suffix = position + 1 < expectedWords ? '-' : '';
  const out: string[] = [];
  for (const word of codeWords(parityAt(position))) {
    if (word.startsWith(partial)) out.push(head + word + suffix);
  }
  return out.sort();
}
