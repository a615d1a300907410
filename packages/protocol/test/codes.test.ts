import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import {
  completeCode,
  generateCode,
  isValidNameplate,
  MAX_CODE_LENGTH,
  normalizeCode,
  parseCode,
} from '../src/codes.js';
import { isWormholeError } from '../src/errors.js';
import { byteOfWord, codeWords, EVEN_WORDS, ODD_WORDS, parityAt, wordForByte } from '../src/wordlist.js';

const PY_WORDLIST = '/usr/lib/python3/dist-packages/wormhole/_wordlist.py';

/** A `random(n)` that hands out `bytes` in order and records every request. */
function scripted(bytes: number[]): { random: (n: number) => Uint8Array; calls: number[] } {
  const calls: number[] = [];
  let at = 0;
  return {
    calls,
    random(n: number) {
      calls.push(n);
      const out = Uint8Array.from(bytes.slice(at, at + n));
      at += n;
      if (out.length !== n) throw new Error('scripted random ran out of bytes');
      return out;
    },
  };
}

function invalidCodeMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isWormholeError(err, 'InvalidCode')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidCode error');
}

describe('PGP word list', () => {
  it('has 256 even and 256 odd words, all distinct', () => {
    expect(EVEN_WORDS).toHaveLength(256);
    expect(ODD_WORDS).toHaveLength(256);
    const lower = [...EVEN_WORDS, ...ODD_WORDS].map((w) => w.toLowerCase());
    expect(new Set(lower).size).toBe(512);
    for (const w of lower) expect(w).toMatch(/^[a-z]+$/);
  });

  // The reference is the Debian magic-wormhole 0.12.0 package (.ci/run installs it).
  it('matches every entry of magic-wormhole 0.12 _wordlist.py', () => {
    expect(existsSync(PY_WORDLIST), `${PY_WORDLIST} missing: install Debian's magic-wormhole`).toBe(true);
    const source = readFileSync(PY_WORDLIST, 'utf8');
    const entry = /^\s*'([0-9A-F]{2})': \['([A-Za-z]+)', '([A-Za-z]+)'\],?\s*$/gm;
    const even: string[] = [];
    const odd: string[] = [];
    let count = 0;
    for (const m of source.matchAll(entry)) {
      const byte = Number.parseInt(m[1]!, 16);
      even[byte] = m[2]!;
      odd[byte] = m[3]!;
      count++;
    }
    expect(count).toBe(256);
    expect(EVEN_WORDS).toEqual(even); // exact spelling, including case
    expect(ODD_WORDS).toEqual(odd);
  });

  it('spot checks', () => {
    expect(EVEN_WORDS[0x00]).toBe('aardvark');
    expect(ODD_WORDS[0x00]).toBe('adroitness');
    expect(EVEN_WORDS[0x09]).toBe('Algol');
    expect(ODD_WORDS[0x0a]).toBe('Apollo');
    expect(EVEN_WORDS[0xff]).toBe('Zulu');
    expect(ODD_WORDS[0xff]).toBe('Yucatan');
    expect(codeWords('even')[0x09]).toBe('algol');
    expect(codeWords('odd')[0xff]).toBe('yucatan');
  });

  it('looks words up by byte and bytes up by word, per list', () => {
    expect(parityAt(0)).toBe('odd');
    expect(parityAt(1)).toBe('even');
    expect(parityAt(2)).toBe('odd');
    expect(wordForByte(0x00, 0)).toBe('adroitness');
    expect(wordForByte(0x00, 1)).toBe('aardvark');
    expect(wordForByte(0x0a, 2)).toBe('apollo');
    for (let b = 0; b < 256; b++) {
      expect(byteOfWord(codeWords('even')[b]!, 'even')).toBe(b);
      expect(byteOfWord(codeWords('odd')[b]!, 'odd')).toBe(b);
    }
    expect(byteOfWord('aardvark', 'odd')).toBeUndefined(); // even word, wrong list
    expect(byteOfWord('Algol', 'even')).toBeUndefined(); // codes are lowercase
    expect(byteOfWord('nope', 'even')).toBeUndefined();
    expect(() => wordForByte(256, 0)).toThrow(RangeError);
    expect(() => wordForByte(1.5, 0)).toThrow(RangeError);
    expect(() => parityAt(-1)).toThrow(RangeError);
  });
});

describe('generateCode', () => {
  // Expected codes came from magic-wormhole 0.12 PGPWordList.choose_words with
  // os.urandom patched to return these bytes one at a time.
  it('matches choose_words: odd word first, then alternating, lowercase', () => {
    expect(generateCode('4', 2, scripted([0x00, 0xff]).random)).toBe('4-adroitness-zulu');
    expect(generateCode('4', 2, scripted([0xff, 0x00]).random)).toBe('4-yucatan-aardvark');
    expect(generateCode('17', 4, scripted([0x0a, 0x09, 0x80, 0x41]).random)).toBe('17-apollo-algol-intention-cranky');
    expect(generateCode('0', 1, scripted([0x2a]).random)).toBe('0-chambermaid');
  });

  it('draws exactly one random byte per word, in one call', () => {
    const r = scripted([1, 2, 3, 4, 5]);
    generateCode('9', 5, r.random);
    expect(r.calls).toEqual([5]);
  });

  it('alternates lists over every position', () => {
    const bytes = Array.from({ length: 10 }, (_, i) => (i * 37) % 256);
    const code = generateCode('8', 10, scripted(bytes).random);
    const { words } = parseCode(code);
    words.forEach((w, i) => {
      const parity = i % 2 === 0 ? 'odd' : 'even';
      expect(byteOfWord(w, parity)).toBe(bytes[i]);
    });
  });

  it('rejects bad arguments', () => {
    const r = () => new Uint8Array(2);
    expect(invalidCodeMessage(() => generateCode('4a', 2, r))).toMatch(/nameplate/);
    expect(invalidCodeMessage(() => generateCode('', 2, r))).toMatch(/nameplate/);
    expect(() => generateCode('4', 0, r)).toThrow(RangeError);
    expect(() => generateCode('4', 65, r)).toThrow(RangeError);
    expect(() => generateCode('4', 1.5, r)).toThrow(TypeError);
    expect(() => generateCode('4', 2, () => new Uint8Array(1))).toThrow(RangeError);
    expect(() => generateCode('4', 2, (() => [1, 2]) as unknown as (n: number) => Uint8Array)).toThrow(TypeError);
    expect(invalidCodeMessage(() => generateCode('1'.repeat(MAX_CODE_LENGTH), 1, () => new Uint8Array(1)))).toMatch(
      /too long/,
    );
  });
});

describe('parseCode', () => {
  it('splits good codes', () => {
    expect(parseCode('4-purple-sausages')).toEqual({
      code: '4-purple-sausages',
      nameplate: '4',
      words: ['purple', 'sausages'],
    });
    expect(parseCode('0-x')).toEqual({ code: '0-x', nameplate: '0', words: ['x'] });
    // Custom (`--code`) words, other scripts, case and leading zeros are kept as typed:
    // the whole code is the password.
    expect(parseCode('0042-Purple-ünïcödé-3').words).toEqual(['Purple', 'ünïcödé', '3']);
    expect(parseCode('0042-a').nameplate).toBe('0042');
  });

  it('normalizes to NFC, as magic-wormhole does before SPAKE2', () => {
    const decomposed = '7-cafe\u0301-cre\u0300me';
    const composed = '7-caf\u00e9-cr\u00e8me';
    expect(normalizeCode(decomposed)).toBe(composed);
    expect(parseCode(decomposed)).toEqual({ code: composed, nameplate: '7', words: ['caf\u00e9', 'cr\u00e8me'] });
    expect(normalizeCode(composed)).toBe(composed);
  });

  it('refuses bad codes with a message that names the problem', () => {
    expect(invalidCodeMessage(() => parseCode(''))).toMatch(/empty/);
    expect(invalidCodeMessage(() => parseCode('4'))).toMatch(/no hyphen/);
    expect(invalidCodeMessage(() => parseCode('purple'))).toMatch(/no hyphen/);
    expect(invalidCodeMessage(() => parseCode('4-'))).toMatch(/no words/);
    expect(invalidCodeMessage(() => parseCode('4a-purple'))).toMatch(/start with a number/);
    expect(invalidCodeMessage(() => parseCode('-purple'))).toMatch(/start with a number/);
    expect(invalidCodeMessage(() => parseCode('purple-4'))).toMatch(/start with a number/);
    expect(invalidCodeMessage(() => parseCode('\u0664\u0662-purple'))).toMatch(/start with a number/); // Arabic-Indic digits
    expect(invalidCodeMessage(() => parseCode('4-purple-'))).toMatch(/empty word/);
    expect(invalidCodeMessage(() => parseCode('4--purple'))).toMatch(/empty word/);
    expect(invalidCodeMessage(() => parseCode('4-purple sausages'))).toMatch(/spaces/);
    expect(invalidCodeMessage(() => parseCode(' 4-purple'))).toMatch(/spaces/);
    expect(invalidCodeMessage(() => parseCode('4-purple\n'))).toMatch(/spaces/);
    expect(invalidCodeMessage(() => parseCode('4-purple\tsausages'))).toMatch(/spaces/);
    expect(invalidCodeMessage(() => parseCode('4-pur\u00a0ple'))).toMatch(/spaces/); // no-break space
    expect(invalidCodeMessage(() => parseCode('4-pur\u0000ple'))).toMatch(/invisible/);
    expect(() => parseCode(42 as unknown as string)).toThrow(TypeError);
  });

  it('bounds the input length', () => {
    const longest = `4-${'a'.repeat(MAX_CODE_LENGTH - 2)}`;
    expect(parseCode(longest).code).toBe(longest);
    expect(invalidCodeMessage(() => parseCode(`${longest}a`))).toMatch(/too long/);
    expect(invalidCodeMessage(() => parseCode('4-a'.repeat(1_000_000)))).toMatch(/too long/);
  });

  it('never echoes the code in its message (the code is a secret)', () => {
    for (const bad of ['4-secret words', 'x4-secretword', '4-secretword-', `4-secretword${'x'.repeat(2000)}`]) {
      expect(invalidCodeMessage(() => parseCode(bad))).not.toContain('secretword');
    }
  });

  it('accepts every generated code', () => {
    for (let b = 0; b < 256; b++) {
      const code = generateCode(String(b), 3, () => Uint8Array.of(b, b, 255 - b));
      expect(parseCode(code).code).toBe(code);
    }
  });

  it('isValidNameplate', () => {
    expect(isValidNameplate('12')).toBe(true);
    expect(isValidNameplate('')).toBe(false);
    expect(isValidNameplate('1 2')).toBe(false);
    expect(isValidNameplate('1a')).toBe(false);
  });
});

describe('completeCode', () => {
  const none = { nameplates: [] as string[] };

  it('completes nameplates from the active list, each with a hyphen', () => {
    const nameplates = ['12', '3', '15', '120', '12'];
    expect(completeCode('', { nameplates })).toEqual(['12-', '120-', '15-', '3-']);
    expect(completeCode('1', { nameplates })).toEqual(['12-', '120-', '15-']);
    expect(completeCode('12', { nameplates })).toEqual(['12-', '120-']);
    expect(completeCode('4', { nameplates })).toEqual([]);
    expect(completeCode('', { nameplates: new Set(['7']) })).toEqual(['7-']); // any iterable
    // Nameplates that could never be claimed are not offered.
    expect(completeCode('', { nameplates: ['1a', '', '5'] })).toEqual(['5-']);
  });

  // Every expectation below came from magic-wormhole 0.12:
  // sorted(nameplate + "-" + c for c in PGPWordList().get_completions(words, num_words)),
  // which is what the CLI's CodeInputter returns once the nameplate is claimed.
  it('completes the first word from the odd list, with a trailing hyphen', () => {
    expect(completeCode('12-sup', none)).toEqual(['12-supportive-']);
    expect(completeCode('4-adr', none)).toEqual(['4-adroitness-']);
    expect(completeCode('4-a', none)).toEqual([
      '4-adroitness-', '4-adviser-', '4-aftermath-', '4-aggregate-', '4-alkali-', '4-almighty-',
      '4-amulet-', '4-amusement-', '4-antenna-', '4-apollo-', '4-applicant-', '4-armistice-',
      '4-article-', '4-asteroid-', '4-atlantic-', '4-atmosphere-', '4-autopsy-',
    ]);
    expect(completeCode('4-s', none)).toEqual([
      '4-sandalwood-', '4-sardonic-', '4-saturday-', '4-savagery-', '4-scavenger-', '4-sensation-',
      '4-sociable-', '4-souvenir-', '4-specialist-', '4-speculate-', '4-stethoscope-',
      '4-stupendous-', '4-supportive-', '4-surrender-', '4-suspicious-', '4-sympathy-',
    ]);
    const all = completeCode('4-', none);
    expect(all).toHaveLength(256);
    expect(all[0]).toBe('4-adroitness-');
    expect(all[255]).toBe('4-yucatan-');
  });

  it('completes the second word from the even list, without a hyphen', () => {
    expect(completeCode('4-adroitness-a', none)).toEqual([
      '4-adroitness-aardvark', '4-adroitness-absurd', '4-adroitness-accrue', '4-adroitness-acme',
      '4-adroitness-adrift', '4-adroitness-adult', '4-adroitness-afflict', '4-adroitness-ahead',
      '4-adroitness-aimless', '4-adroitness-algol', '4-adroitness-allow', '4-adroitness-alone',
      '4-adroitness-ammo', '4-adroitness-ancient', '4-adroitness-apple', '4-adroitness-artist',
      '4-adroitness-assume', '4-adroitness-athens', '4-adroitness-atlas', '4-adroitness-aztec',
    ]);
    const all = completeCode('4-adroitness-', none);
    expect(all).toHaveLength(256);
    expect(all[0]).toBe('4-adroitness-aardvark');
    expect(all[255]).toBe('4-adroitness-zulu');
  });

  it('returns a complete prefix itself (plus a hyphen while words are expected)', () => {
    expect(completeCode('4-adroitness', none)).toEqual(['4-adroitness-']);
    expect(completeCode('4-adroitness-aardvark', none)).toEqual(['4-adroitness-aardvark']);
  });

  it('uses the list for the position: a word from the wrong list has no completions', () => {
    expect(completeCode('4-aardvark', none)).toEqual([]); // even word in first (odd) place
    expect(completeCode('4-zulu', none)).toEqual([]);
    expect(completeCode('4-adroitness-adroitness', none)).toEqual([]);
  });

  it('keeps alternating past the expected number of words, without hyphens', () => {
    const third = completeCode('4-adroitness-aardvark-', none);
    expect(third).toHaveLength(256);
    expect(third[0]).toBe('4-adroitness-aardvark-adroitness');
    expect(completeCode('4-x-y-y', none)).toEqual(['4-x-y-yesteryear', '4-x-y-yucatan']);
    expect(completeCode('4-x-y-z-w', none)).toEqual([
      '4-x-y-z-waffle', '4-x-y-z-wallet', '4-x-y-z-watchword', '4-x-y-z-wayside', '4-x-y-z-willow',
      '4-x-y-z-woodlark',
    ]);
  });

  it('honours the expected word count for the trailing hyphen', () => {
    expect(completeCode('4-adr', { nameplates: [], words: 1 })).toEqual(['4-adroitness']);
    expect(completeCode('4-adroitness-b', { nameplates: [], words: 3 })).toEqual([
      '4-adroitness-baboon-', '4-adroitness-backfield-', '4-adroitness-backward-',
      '4-adroitness-banjo-', '4-adroitness-beaming-', '4-adroitness-bedlamp-',
      '4-adroitness-beehive-', '4-adroitness-beeswax-', '4-adroitness-befriend-',
      '4-adroitness-belfast-', '4-adroitness-berserk-', '4-adroitness-billiard-',
      '4-adroitness-bison-', '4-adroitness-blackjack-', '4-adroitness-blockade-',
      '4-adroitness-blowtorch-', '4-adroitness-bluebird-', '4-adroitness-bombast-',
      '4-adroitness-bookshelf-', '4-adroitness-brackish-', '4-adroitness-breadline-',
      '4-adroitness-breakup-', '4-adroitness-brickyard-', '4-adroitness-briefcase-',
      '4-adroitness-burbank-', '4-adroitness-button-', '4-adroitness-buzzard-',
    ]);
    expect(completeCode('4-ab', { nameplates: [], words: 3 })).toEqual([]);
    expect(() => completeCode('4-', { nameplates: [], words: 0 })).toThrow(RangeError);
  });

  it('is case-sensitive, like the CLI', () => {
    expect(completeCode('4-Adr', none)).toEqual([]);
    expect(completeCode('4-adroitness-Aa', none)).toEqual([]);
  });

  it('offers nothing after an unusable nameplate or an over-long prefix', () => {
    // The CLI's completer raises KeyFormatError here; readline shows nothing.
    expect(completeCode('4a-adr', none)).toEqual([]);
    expect(completeCode('-adr', none)).toEqual([]);
    expect(completeCode(`4-${'a'.repeat(MAX_CODE_LENGTH)}`, none)).toEqual([]);
  });

  it('every completion of a finished two-word code parses', () => {
    for (const c of completeCode('4-adroitness-', none)) expect(parseCode(c).words).toHaveLength(2);
  });
});
