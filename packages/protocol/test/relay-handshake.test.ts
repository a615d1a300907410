// The transit relay's handshake grammar (the relay's side of the
// `please relay TOKEN for side SIDE` line), as wormhole_transit_relay 0.2.1
// judges it, and the client's line it must accept.
import { describe, expect, it } from 'vitest';
import { checkHandshake, relayLine, RELAY_OK } from '../src/transit/relay-handshake.js';
import { RELAY_OK as CLIENT_RELAY_OK, relayHandshake } from '../src/transit/crypto.js';
import { transitKey } from '../src/keys.js';
import { fromUtf8 } from '../src/bytes.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const TOKEN = 'ab'.repeat(32);
const sided = (side: string, token = TOKEN): string => `please relay ${token} for side ${side}\n`;
const unsided = (token = TOKEN): string => `please relay ${token}\n`;

describe('relay handshake line', () => {
  it('accepts the sided and the old unsided form', () => {
    expect(checkHandshake(enc(sided('0123456789abcdef')))).toEqual({ kind: 'ok', token: TOKEN, side: '0123456789abcdef' });
    expect(checkHandshake(enc(unsided()))).toEqual({ kind: 'ok', token: TOKEN, side: null });
  });

  it('waits for a line that arrives in pieces, byte by byte', () => {
    const line = enc(sided('0123456789abcdef'));
    for (let i = 1; i < line.length; i++) expect(checkHandshake(line.subarray(0, i)).kind).toBe('waiting');
    expect(checkHandshake(line).kind).toBe('ok');
  });

  it('says "bad" as soon as a short line ends, or a full-length one does not match', () => {
    expect(checkHandshake(enc('hello\n')).kind).toBe('bad');
    expect(checkHandshake(enc('GET / HTTP/1.1\r\n')).kind).toBe('bad');
    expect(checkHandshake(enc(`please relay ${'zz'.repeat(31)}\n`)).kind).toBe('bad');
    expect(checkHandshake(enc(sided('0123456789abcde!'))).kind).toBe('bad');
    expect(checkHandshake(enc(`please relay ${'ab'.repeat(32)} for side 0123\n`)).kind).toBe('bad');
    expect(checkHandshake(new Uint8Array(200)).kind).toBe('bad');
    // Python's \w is [A-Za-z0-9_], so these are fine.
    expect(checkHandshake(enc(sided('ABCDEFGH_ijklmno', 'Z_'.repeat(32)))).kind).toBe('ok');
  });

  it('says "impatient" when bytes follow the handshake before "ok"', () => {
    expect(checkHandshake(enc(`${sided('0123456789abcdef')}x`)).kind).toBe('impatient');
    expect(checkHandshake(enc(`${unsided()}transit sender`)).kind).toBe('impatient');
    // A valid line after a first line is found (multiline search), but then
    // the buffer is longer than one handshake: impatient, as in Python.
    expect(checkHandshake(enc(`x\n${sided('0123456789abcdef')}`)).kind).toBe('impatient');
  });

  it('does not throw on arbitrary bytes', () => {
    let seed = 1;
    for (let i = 0; i < 2_000; i++) {
      const n = (seed = (seed * 1103515245 + 12345) >>> 0) % 300;
      const buf = new Uint8Array(n);
      for (let j = 0; j < n; j++) buf[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      expect(['waiting', 'bad', 'impatient', 'ok']).toContain(checkHandshake(buf).kind);
    }
  });
});

describe('both ends of the relay line share one grammar', () => {
  it('the client line is what the relay accepts, and both know the same ok', () => {
    const line = relayHandshake(transitKey(new Uint8Array(32).fill(7)), '0123456789abcdef');
    const judged = checkHandshake(line);
    expect(judged).toMatchObject({ kind: 'ok', side: '0123456789abcdef' });
    expect(fromUtf8(line)).toBe(relayLine((judged as { token: string }).token, '0123456789abcdef'));
    expect(fromUtf8(RELAY_OK)).toBe('ok\n');
    expect(CLIENT_RELAY_OK).toBe(RELAY_OK);
  });
});
