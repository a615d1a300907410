/**
 * Peer-supplied text made safe to show: a name, an origin, a received
 * message may carry terminal escape sequences (which move the cursor,
 * rewrite the title, hide what follows) or bidirectional controls (which
 * make `evil‮txt.exe` read as `evilexe.txt`). {@link safeText} strips them
 * before anything a peer said reaches a terminal or a UI.
 *
 * What goes: ESC sequences whole (CSI `ESC [ … final`, OSC/DCS/APC/PM/SOS
 * strings up to BEL or ST, two-character escapes), every other C0 control
 * and DEL, the C1 controls U+0080–U+009F (an 8-bit CSI is U+009B), the bidi
 * marks and embeddings U+061C, U+200E, U+200F, U+202A–U+202E and the
 * isolates U+2066–U+2069, the invisible U+200B–U+200D, U+2060 and U+FEFF,
 * and the line/paragraph separators U+2028/U+2029. Tabs and line feeds are
 * kept in multi-line text and become spaces in single-line text.
 */

/** ESC-introduced sequences: strings (OSC ] DCS P SOS X PM ^ APC _) to BEL/ST, CSI to its final byte, else ESC + one character. */
const ESCAPES = /\x1b(?:[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|[\x20-\x2f]*[\x30-\x7e]?)/g;
/** An 8-bit CSI (U+009B) with its parameters (other C1 controls go one by one, below). */
const C1_SEQUENCES = /\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
/** Controls and invisible formatting, except tab and line feed. */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u2028\u2029]/g;

export interface SafeTextOptions {
  /** Keep line feeds and tabs (a received message). Default false: one line (a name, an origin). */
  readonly multiline?: boolean;
  /** Longest result, in UTF-16 code units (cut, with `…`). Default: no bound. */
  readonly maxLength?: number;
}

/**
 * `text` with every control, escape sequence and bidi/invisible formatting
 * character removed, so it shows as exactly what it says.
 *
 * @example
 * safeText('Work\x1b[2J laptop\u202etxt.exe'); // 'Work laptoptxt.exe'
 * safeText('line 1\nline 2', { multiline: true }); // unchanged
 */
export function safeText(text: string, options: SafeTextOptions = {}): string {
  let out = String(text).replace(ESCAPES, '').replace(C1_SEQUENCES, '');
  out = options.multiline ? out.replace(CONTROLS, '') : out.replace(/[\t\n]/g, ' ').replace(CONTROLS, '');
  const max = options.maxLength;
  if (max !== undefined && out.length > max) out = `${out.slice(0, Math.max(0, max - 1))}…`;
  return out;
}
