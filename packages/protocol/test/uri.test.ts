import { describe, expect, it } from 'vitest';
import { formatWormholeUri, parseWormholeUri } from '../src/uri.js';
import { verifierWords } from '../src/verifier.js';
import { EVEN_WORDS, ODD_WORDS } from '../src/wordlist.js';

describe('wormhole-transfer URIs', () => {
  it('round-trips a code with a mailbox', () => {
    const uri = formatWormholeUri({ code: '7-guitarist-revenge', rendezvous: 'ws://127.0.0.1:4000/v1', role: 'follower' });
    expect(uri).toBe('wormhole-transfer:7-guitarist-revenge?rendezvous=ws%3A%2F%2F127.0.0.1%3A4000%2Fv1');
    expect(parseWormholeUri(uri)).toEqual({ code: '7-guitarist-revenge', rendezvous: 'ws://127.0.0.1:4000/v1', role: 'follower' });
  });
  it('encodes and decodes non-ASCII codes', () => {
    const uri = formatWormholeUri({ code: '4-café-crème', role: 'leader' });
    expect(uri).toBe('wormhole-transfer:4-caf%C3%A9-cr%C3%A8me?role=leader');
    expect(parseWormholeUri(uri).code).toBe('4-café-crème');
  });
  it.each([
    ['https://example.com/4-a-b', /must start with/],
    ['wormhole-transfer://host/4-a-b', /host/],
    ['wormhole-transfer:4-a-b?version=1', /version/],
    ['wormhole-transfer:4-a-b?role=boss', /role/],
    ['wormhole-transfer:abc', /./],
    ['wormhole-transfer:%E0%A4%A', /URL-encoded/],
    [`wormhole-transfer:4-${'a'.repeat(3000)}`, /too long/],
  ])('refuses %s', (text, why) => {
    expect(() => parseWormholeUri(text)).toThrow(why);
    try {
      parseWormholeUri(text);
    } catch (e) {
      expect((e as { code: string }).code).toBe('InvalidCode');
    }
  });
});

describe('verifierWords', () => {
  it('maps bytes through the odd/even PGP lists', () => {
    const v = new Uint8Array(32);
    v.set([0, 0, 255, 255]);
    expect(verifierWords(v, 4)).toEqual([ODD_WORDS[0], EVEN_WORDS[0], ODD_WORDS[255], EVEN_WORDS[255]].map((w) => w!.toLowerCase()));
  });
  it('checks its arguments', () => {
    expect(() => verifierWords(new Uint8Array(32), 0)).toThrow(RangeError);
    expect(() => verifierWords('x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
