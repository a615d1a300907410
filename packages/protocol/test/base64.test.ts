import { describe, expect, it } from 'vitest';
import { toBase64 } from '../src/bytes.js';
import { seededRandom } from '@burrow/testkit';

describe('toBase64', () => {
  it('matches RFC 4648 test vectors', () => {
    const enc = (s: string) => toBase64(new TextEncoder().encode(s));
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map(enc)).toEqual(['', 'Zg==', 'Zm8=', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', 'Zm9vYmFy']);
  });

  it('matches Node for random lengths 0..300', () => {
    const random = seededRandom(7);
    for (let n = 0; n <= 300; n++) {
      const bytes = random(n);
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});
