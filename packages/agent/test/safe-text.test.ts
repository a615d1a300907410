// One sanitizer for every peer-supplied string before a terminal or a UI
// shows it: pairing names and origins (`burrow agent list`, the agent's
// events), refusal sentences, and text received by `burrow receive`.
import { describe, expect, it } from 'vitest';
import { safeText } from '@burrow/protocol';
import { cleanName, encodePairHello, parsePairHello, parsePairMessage, encodePairRefusal } from '@burrow/protocol/agent';

const ID = 'ab'.repeat(16);

describe('safeText', () => {
  it('strips ESC sequences whole: CSI, OSC (to BEL or ST), two-character escapes, 8-bit CSI', () => {
    expect(safeText('a\x1b[2Jb\x1b[1;31mc\x1b[0m')).toBe('abc');
    expect(safeText('a\x1b]0;owned\x07b\x1b]8;;http://x\x1b\\c')).toBe('abc');
    expect(safeText('a\x1bcb\x1b(Bc')).toBe('abc');
    expect(safeText('a\u009b31mb\u009dtitle\u0007c')).toBe('abtitlec');
  });

  it('strips C0/C1 controls, DEL, bidi embeddings, overrides, isolates and marks, invisible characters', () => {
    expect(safeText('evil\u202etxt.exe')).toBe('eviltxt.exe');
    const bidi = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
    expect(safeText(`x${bidi}y`)).toBe('xy');
    expect(safeText('a\x00b\x07c\x08d\x7fe\x85f\u200bg\ufeffh\u2028i')).toBe('abcdefghi');
    expect(safeText('a\rb')).toBe('ab'); // a carriage return could overwrite what was shown
  });

  it('keeps ordinary text, other scripts and emoji; one line unless multiline', () => {
    expect(safeText('Ünïcødé — 日本語 עברית 🦫')).toBe('Ünïcødé — 日本語 עברית 🦫');
    expect(safeText('two\nlines\tand a tab')).toBe('two lines and a tab');
    expect(safeText('two\nlines\tand a tab\x1b[A', { multiline: true })).toBe('two\nlines\tand a tab');
    expect(safeText('x'.repeat(10), { maxLength: 5 })).toBe('xxxx…');
  });
});

describe('pair-v1 names and locators from the peer', () => {
  it('cleans names at ingest, so stores and every UI get them clean', () => {
    expect(cleanName('Work\x1b[2J\u202e laptop')).toBe('Work laptop');
    expect(() => cleanName('\x1b[2J\u202e')).toThrow(RangeError);
  });

  it('leaves out an origin or endpoint carrying a control, bidi character or space (no origin: local apps only)', () => {
    const hello = (o: Record<string, string>) => JSON.parse(new TextDecoder().decode(encodePairHello({ role: 'client', id: ID, name: 'n', ...o })))['pair-v1'];
    expect(parsePairHello(hello({ origin: 'chrome-extension://abc' }), 'client').origin).toBe('chrome-extension://abc');
    expect(parsePairHello(hello({ origin: 'chrome-extension://abc\u202e' }), 'client').origin).toBeUndefined();
    expect(parsePairHello(hello({ origin: 'chrome-extension://a\x1b[2Jb' }), 'client').origin).toBeUndefined();
    expect(parsePairHello({ ...hello({}), name: '\x1b]0;x\x07Ext\u202e' }, 'client').name).toBe('Ext');
  });

  it('cleans a refusal sentence from the peer', () => {
    expect(parsePairMessage(encodePairRefusal('no\x1b[2J\u202e way'))).toEqual({ type: 'refused', reason: 'no way' });
  });
});
