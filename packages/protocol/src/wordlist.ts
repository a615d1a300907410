/**
 * The PGP word list, as magic-wormhole 0.12 uses it for codes.
 *
 * Each byte has two words: an "even" word (two syllables) and an "odd" word
 * (three syllables). A code's words alternate between the lists so a dropped
 * or swapped word is noticeable: the FIRST word of a code is an odd word, the
 * second an even word, and so on (`choose_words` in magic-wormhole's
 * `_wordlist.py`). Codes always use the lowercase form of each word.
 *
 * The arrays keep the list's own spelling (`Algol`, `Apollo`, …) and are
 * indexed by byte; data transcribed from magic-wormhole 0.12.0
 * `wormhole/_wordlist.py` (itself from https://en.wikipedia.org/wiki/PGP_Words).
 *
 * @example
 * ```ts
 * wordForByte(0x00, 0); // 'adroitness' (position 0: odd list)
 * wordForByte(0x00, 1); // 'aardvark'   (position 1: even list)
 * byteOfWord('adroitness', 'odd'); // 0
 * ```
 */

/** Which half of the PGP list a word comes from. */
export type WordParity = 'even' | 'odd';

/** The 256 even (two-syllable) words, indexed by byte, in the list's own spelling. */
export const EVEN_WORDS: readonly string[] = Object.freeze([
  /* 0x00 */ 'aardvark', 'absurd', 'accrue', 'acme', 'adrift', 'adult', 'afflict', 'ahead',
  /* 0x08 */ 'aimless', 'Algol', 'allow', 'alone', 'ammo', 'ancient', 'apple', 'artist',
  /* 0x10 */ 'assume', 'Athens', 'atlas', 'Aztec', 'baboon', 'backfield', 'backward', 'banjo',
  /* 0x18 */ 'beaming', 'bedlamp', 'beehive', 'beeswax', 'befriend', 'Belfast', 'berserk', 'billiard',
  /* 0x20 */ 'bison', 'blackjack', 'blockade', 'blowtorch', 'bluebird', 'bombast', 'bookshelf', 'brackish',
  /* 0x28 */ 'breadline', 'breakup', 'brickyard', 'briefcase', 'Burbank', 'button', 'buzzard', 'cement',
  /* 0x30 */ 'chairlift', 'chatter', 'checkup', 'chisel', 'choking', 'chopper', 'Christmas', 'clamshell',
  /* 0x38 */ 'classic', 'classroom', 'cleanup', 'clockwork', 'cobra', 'commence', 'concert', 'cowbell',
  /* 0x40 */ 'crackdown', 'cranky', 'crowfoot', 'crucial', 'crumpled', 'crusade', 'cubic', 'dashboard',
  /* 0x48 */ 'deadbolt', 'deckhand', 'dogsled', 'dragnet', 'drainage', 'dreadful', 'drifter', 'dropper',
  /* 0x50 */ 'drumbeat', 'drunken', 'Dupont', 'dwelling', 'eating', 'edict', 'egghead', 'eightball',
  /* 0x58 */ 'endorse', 'endow', 'enlist', 'erase', 'escape', 'exceed', 'eyeglass', 'eyetooth',
  /* 0x60 */ 'facial', 'fallout', 'flagpole', 'flatfoot', 'flytrap', 'fracture', 'framework', 'freedom',
  /* 0x68 */ 'frighten', 'gazelle', 'Geiger', 'glitter', 'glucose', 'goggles', 'goldfish', 'gremlin',
  /* 0x70 */ 'guidance', 'hamlet', 'highchair', 'hockey', 'indoors', 'indulge', 'inverse', 'involve',
  /* 0x78 */ 'island', 'jawbone', 'keyboard', 'kickoff', 'kiwi', 'klaxon', 'locale', 'lockup',
  /* 0x80 */ 'merit', 'minnow', 'miser', 'Mohawk', 'mural', 'music', 'necklace', 'Neptune',
  /* 0x88 */ 'newborn', 'nightbird', 'Oakland', 'obtuse', 'offload', 'optic', 'orca', 'payday',
  /* 0x90 */ 'peachy', 'pheasant', 'physique', 'playhouse', 'Pluto', 'preclude', 'prefer', 'preshrunk',
  /* 0x98 */ 'printer', 'prowler', 'pupil', 'puppy', 'python', 'quadrant', 'quiver', 'quota',
  /* 0xa0 */ 'ragtime', 'ratchet', 'rebirth', 'reform', 'regain', 'reindeer', 'rematch', 'repay',
  /* 0xa8 */ 'retouch', 'revenge', 'reward', 'rhythm', 'ribcage', 'ringbolt', 'robust', 'rocker',
  /* 0xb0 */ 'ruffled', 'sailboat', 'sawdust', 'scallion', 'scenic', 'scorecard', 'Scotland', 'seabird',
  /* 0xb8 */ 'select', 'sentence', 'shadow', 'shamrock', 'showgirl', 'skullcap', 'skydive', 'slingshot',
  /* 0xc0 */ 'slowdown', 'snapline', 'snapshot', 'snowcap', 'snowslide', 'solo', 'southward', 'soybean',
  /* 0xc8 */ 'spaniel', 'spearhead', 'spellbind', 'spheroid', 'spigot', 'spindle', 'spyglass', 'stagehand',
  /* 0xd0 */ 'stagnate', 'stairway', 'standard', 'stapler', 'steamship', 'sterling', 'stockman', 'stopwatch',
  /* 0xd8 */ 'stormy', 'sugar', 'surmount', 'suspense', 'sweatband', 'swelter', 'tactics', 'talon',
  /* 0xe0 */ 'tapeworm', 'tempest', 'tiger', 'tissue', 'tonic', 'topmost', 'tracker', 'transit',
  /* 0xe8 */ 'trauma', 'treadmill', 'Trojan', 'trouble', 'tumor', 'tunnel', 'tycoon', 'uncut',
  /* 0xf0 */ 'unearth', 'unwind', 'uproot', 'upset', 'upshot', 'vapor', 'village', 'virus',
  /* 0xf8 */ 'Vulcan', 'waffle', 'wallet', 'watchword', 'wayside', 'willow', 'woodlark', 'Zulu',
]);

/** The 256 odd (three-syllable) words, indexed by byte, in the list's own spelling. */
export const ODD_WORDS: readonly string[] = Object.freeze([
  /* 0x00 */ 'adroitness', 'adviser', 'aftermath', 'aggregate', 'alkali', 'almighty', 'amulet', 'amusement',
  /* 0x08 */ 'antenna', 'applicant', 'Apollo', 'armistice', 'article', 'asteroid', 'Atlantic', 'atmosphere',
  /* 0x10 */ 'autopsy', 'Babylon', 'backwater', 'barbecue', 'belowground', 'bifocals', 'bodyguard', 'bookseller',
  /* 0x18 */ 'borderline', 'bottomless', 'Bradbury', 'bravado', 'Brazilian', 'breakaway', 'Burlington', 'businessman',
  /* 0x20 */ 'butterfat', 'Camelot', 'candidate', 'cannonball', 'Capricorn', 'caravan', 'caretaker', 'celebrate',
  /* 0x28 */ 'cellulose', 'certify', 'chambermaid', 'Cherokee', 'Chicago', 'clergyman', 'coherence', 'combustion',
  /* 0x30 */ 'commando', 'company', 'component', 'concurrent', 'confidence', 'conformist', 'congregate', 'consensus',
  /* 0x38 */ 'consulting', 'corporate', 'corrosion', 'councilman', 'crossover', 'crucifix', 'cumbersome', 'customer',
  /* 0x40 */ 'Dakota', 'decadence', 'December', 'decimal', 'designing', 'detector', 'detergent', 'determine',
  /* 0x48 */ 'dictator', 'dinosaur', 'direction', 'disable', 'disbelief', 'disruptive', 'distortion', 'document',
  /* 0x50 */ 'embezzle', 'enchanting', 'enrollment', 'enterprise', 'equation', 'equipment', 'escapade', 'Eskimo',
  /* 0x58 */ 'everyday', 'examine', 'existence', 'exodus', 'fascinate', 'filament', 'finicky', 'forever',
  /* 0x60 */ 'fortitude', 'frequency', 'gadgetry', 'Galveston', 'getaway', 'glossary', 'gossamer', 'graduate',
  /* 0x68 */ 'gravity', 'guitarist', 'hamburger', 'Hamilton', 'handiwork', 'hazardous', 'headwaters', 'hemisphere',
  /* 0x70 */ 'hesitate', 'hideaway', 'holiness', 'hurricane', 'hydraulic', 'impartial', 'impetus', 'inception',
  /* 0x78 */ 'indigo', 'inertia', 'infancy', 'inferno', 'informant', 'insincere', 'insurgent', 'integrate',
  /* 0x80 */ 'intention', 'inventive', 'Istanbul', 'Jamaica', 'Jupiter', 'leprosy', 'letterhead', 'liberty',
  /* 0x88 */ 'maritime', 'matchmaker', 'maverick', 'Medusa', 'megaton', 'microscope', 'microwave', 'midsummer',
  /* 0x90 */ 'millionaire', 'miracle', 'misnomer', 'molasses', 'molecule', 'Montana', 'monument', 'mosquito',
  /* 0x98 */ 'narrative', 'nebula', 'newsletter', 'Norwegian', 'October', 'Ohio', 'onlooker', 'opulent',
  /* 0xa0 */ 'Orlando', 'outfielder', 'Pacific', 'pandemic', 'Pandora', 'paperweight', 'paragon', 'paragraph',
  /* 0xa8 */ 'paramount', 'passenger', 'pedigree', 'Pegasus', 'penetrate', 'perceptive', 'performance', 'pharmacy',
  /* 0xb0 */ 'phonetic', 'photograph', 'pioneer', 'pocketful', 'politeness', 'positive', 'potato', 'processor',
  /* 0xb8 */ 'provincial', 'proximate', 'puberty', 'publisher', 'pyramid', 'quantity', 'racketeer', 'rebellion',
  /* 0xc0 */ 'recipe', 'recover', 'repellent', 'replica', 'reproduce', 'resistor', 'responsive', 'retraction',
  /* 0xc8 */ 'retrieval', 'retrospect', 'revenue', 'revival', 'revolver', 'sandalwood', 'sardonic', 'Saturday',
  /* 0xd0 */ 'savagery', 'scavenger', 'sensation', 'sociable', 'souvenir', 'specialist', 'speculate', 'stethoscope',
  /* 0xd8 */ 'stupendous', 'supportive', 'surrender', 'suspicious', 'sympathy', 'tambourine', 'telephone', 'therapist',
  /* 0xe0 */ 'tobacco', 'tolerance', 'tomorrow', 'torpedo', 'tradition', 'travesty', 'trombonist', 'truncated',
  /* 0xe8 */ 'typewriter', 'ultimate', 'undaunted', 'underfoot', 'unicorn', 'unify', 'universe', 'unravel',
  /* 0xf0 */ 'upcoming', 'vacancy', 'vagabond', 'vertigo', 'Virginia', 'visitor', 'vocalist', 'voyager',
  /* 0xf8 */ 'warranty', 'Waterloo', 'whimsical', 'Wichita', 'Wilmington', 'Wyoming', 'yesteryear', 'Yucatan',
]);

const EVEN_LOWER: readonly string[] = Object.freeze(EVEN_WORDS.map((w) => w.toLowerCase()));
const ODD_LOWER: readonly string[] = Object.freeze(ODD_WORDS.map((w) => w.toLowerCase()));
const EVEN_INDEX: ReadonlyMap<string, number> = new Map(EVEN_LOWER.map((w, i) => [w, i]));
const ODD_INDEX: ReadonlyMap<string, number> = new Map(ODD_LOWER.map((w, i) => [w, i]));

/** The parity of the word at `position` (0-based) in a code: 0 → odd, 1 → even, 2 → odd, … */
export function parityAt(position: number): WordParity {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`position must be a non-negative integer, got ${String(position)}`);
  }
  return position % 2 === 0 ? 'odd' : 'even';
}

/** The 256 lowercase words of one parity, indexed by byte: the forms codes use. */
export function codeWords(parity: WordParity): readonly string[] {
  return parity === 'odd' ? ODD_LOWER : EVEN_LOWER;
}

/** The lowercase code word for `byte` at word `position` (0-based) in a code. */
export function wordForByte(byte: number, position: number): string {
  if (!Number.isInteger(byte) || byte < 0 || byte > 255) {
    throw new RangeError(`byte must be an integer in 0..255, got ${String(byte)}`);
  }
  return codeWords(parityAt(position))[byte]!;
}

/**
 * The byte a lowercase code word stands for in the given list, or `undefined`
 * if it is not in that list. Case-sensitive, like codes themselves: `'algol'`
 * is found, `'Algol'` is not.
 */
export function byteOfWord(word: string, parity: WordParity): number | undefined {
  return (parity === 'odd' ? ODD_INDEX : EVEN_INDEX).get(word);
}
