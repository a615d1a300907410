// Hashcash stamps (protocol/src/hashcash.ts) against a vector computed with
// Python's hashlib, and the mailbox server's permission gate
// (server/permission.ts + the hashcash policy) on the real MailboxCore.
import { describe, expect, it } from 'vitest';
import { hashcashDate, leadingZeroBits, permissionAsk, searchStamp, stampBits, stampPrefix, stampProblem, type HashcashChallenge } from '../src/index.js';
import { hashcashPermission } from '../src/server/hashcash-permission.js';
import { ERR_PERMISSION_REQUIRED } from '../src/server/index.js';
import { APPID, errors, harness, type TestClient } from './support/mailbox-harness.js';

const RAND = Uint8Array.from({ length: 16 }, (_, i) => i);
const JAN_31 = Date.UTC(2025, 0, 31, 12);
const CHALLENGE: HashcashChallenge = { resource: 'burrowtest', bits: 12 };

/*
 * Python 3, hashlib:
 *   prefix = "1:12:250131:burrowtest::" + base64.b64encode(bytes(range(16))).decode() + ":"
 *   first c with leading_zero_bits(sha1((prefix + format(c, "x")).encode()).digest()) >= 12
 *   → c = 676 ("2a4"), sha1 = 00091a4e5b0cb34951b4f00814e384ee70849c8f (12 zero bits)
 */
const PREFIX = '1:12:250131:burrowtest::AAECAwQFBgcICQoLDA0ODw==:';
const STAMP = `${PREFIX}2a4`;

function solve(challenge: HashcashChallenge, now: number): string {
  const found = searchStamp(stampPrefix(challenge, now, RAND), challenge.bits, 0, 1 << 22);
  if (!found.stamp) throw new Error('no stamp');
  return found.stamp;
}

describe('hashcash stamps', () => {
  it('builds the same stamp as Python (prefix, first counter, bits)', () => {
    expect(stampPrefix(CHALLENGE, JAN_31, RAND)).toBe(PREFIX);
    expect(searchStamp(PREFIX, 12, 0, 1000)).toEqual({ stamp: STAMP, next: 677 });
    expect(stampBits(STAMP)).toBe(12);
    // Searching in slices finds the same stamp.
    expect(searchStamp(PREFIX, 12, 0, 600)).toEqual({ next: 600 });
    expect(searchStamp(PREFIX, 12, 600, 600).stamp).toBe(STAMP);
  });

  it('counts leading zero bits like Python', () => {
    expect(leadingZeroBits(new Uint8Array([0x00, 0x0f]))).toBe(12);
    expect(leadingZeroBits(new Uint8Array([0x80]))).toBe(0);
    expect(leadingZeroBits(new Uint8Array([0x00, 0x00]))).toBe(16);
    expect(hashcashDate(Date.UTC(2009, 11, 3, 23, 59))).toBe('091203');
  });

  it('verifies: resource, claimed and real bits, version, shape and date window', () => {
    const at = { ...CHALLENGE, now: JAN_31 };
    expect(stampProblem(STAMP, at)).toBeUndefined();
    expect(stampProblem(STAMP, { ...at, resource: 'other' })).toBe('the stamp is for another resource');
    expect(stampProblem(STAMP, { ...at, bits: 13 })).toBe('the stamp claims fewer than 13 bits');
    expect(stampProblem(STAMP.replace('1:12:', '1:20:'), at)).toBe('the stamp does not have the bits it claims');
    expect(stampProblem(STAMP.replace(/^1:/, '0:'), at)).toBe('the stamp is not version 1');
    expect(stampProblem(`${STAMP}:x`, at)).toBe('the stamp does not have 7 fields');
    expect(stampProblem(42, at)).toBe('the stamp is not a string');
    expect(stampProblem('1:'.repeat(300), at)).toBe('the stamp is too long');
    expect(stampProblem(STAMP, { ...at, now: JAN_31 + 3 * 86_400_000 })).toBe('the stamp is not dated today');
    expect(stampProblem(STAMP, { ...at, now: JAN_31 - 3 * 86_400_000 })).toBe('the stamp is not dated today');
    expect(stampProblem(STAMP, { ...at, now: JAN_31 + 86_400_000 })).toBeUndefined();
  });

  it("accepts magic-wormhole.rs's date (base64 of YYYYMMDD) and hashcash's YYMMDDhhmm", () => {
    const rust = searchStamp(`1:8:MjAyNTAxMzE=:burrowtest::cmFuZA==:`, 8, 0, 1 << 16).stamp!;
    expect(stampProblem(rust, { resource: 'burrowtest', bits: 8, now: JAN_31 })).toBeUndefined();
    const long = searchStamp(`1:8:2501311200:burrowtest::cmFuZA==:`, 8, 0, 1 << 16).stamp!;
    expect(stampProblem(long, { resource: 'burrowtest', bits: 8, now: JAN_31 })).toBeUndefined();
  });

  it('reads permission-required from a welcome', () => {
    expect(permissionAsk({})).toEqual({ type: 'none' });
    expect(permissionAsk({ 'permission-required': { hashcash: { bits: 6, resource: 'r' }, none: {} } })).toEqual({ type: 'hashcash', challenge: { bits: 6, resource: 'r' } });
    expect(permissionAsk({ 'permission-required': { none: {}, 'dark-ritual': {} } })).toEqual({ type: 'none' });
    expect(permissionAsk({ 'permission-required': { 'dark-ritual': { hocrux: true } } })).toEqual({ type: 'unsupported', methods: ['dark-ritual'] });
    expect(permissionAsk({ 'permission-required': { hashcash: { bits: 99, resource: 'r' } } })).toEqual({ type: 'unsupported', methods: ['hashcash'] });
  });
});

describe('mailbox server: hashcash permission', () => {
  const gated = () => harness({ permission: hashcashPermission(10) });
  const challengeOf = (c: TestClient): HashcashChallenge => {
    const [welcome] = c.take();
    const asked = (welcome!['welcome'] as Record<string, Record<string, HashcashChallenge>>)['permission-required']!;
    return asked['hashcash']!;
  };

  it('is off by default: no permission-required, bind works at once', () => {
    const c = harness().connect();
    expect(c.take()[0]!['welcome']).toEqual({});
    c.bind(APPID, 'aaaa');
  });

  it('asks each connection for its own resource; refuses everything but ping before a stamp', () => {
    const h = gated();
    const c = h.connect();
    const challenge = challengeOf(c);
    expect(challenge).toEqual({ bits: 10, resource: expect.stringMatching(/^[A-Za-z0-9+/]{11}=$/) as unknown });
    expect(challengeOf(h.connect()).resource).not.toBe(challenge.resource);
    expect(c.send({ type: 'ping', ping: 1 })).toMatchObject([{ type: 'pong', pong: 1 }]);
    for (const type of ['bind', 'allocate', 'list', 'claim', 'open', 'add', 'close']) {
      expect(errors(c.send({ type, appid: APPID, side: 'aaaa' }))).toEqual([ERR_PERMISSION_REQUIRED]);
    }
  });

  it('grants on a valid stamp (either spelling); a refused stamp may be followed by a good one', () => {
    const h = gated();
    for (const type of ['submit-permissions', 'submit-permission']) {
      const c = h.connect();
      const challenge = challengeOf(c);
      expect(errors(c.send({ type, method: 'hashcash', stamp: 'asdf' }))).toEqual(['permission refused: the stamp does not have 7 fields']);
      expect(errors(c.send({ type, method: 'captcha', stamp: 'x' }))).toEqual(["permission refused: unsupported permission method (this server takes 'hashcash')"]);
      expect(c.send({ type, method: 'hashcash', stamp: solve(challenge, h.now) })).toEqual([]);
      c.bind(APPID, `side-${type}`);
      expect(c.send({ type: 'allocate' })).toMatchObject([{ type: 'allocated' }]);
      // A second submission after the grant changes nothing.
      expect(c.send({ type, method: 'hashcash', stamp: 'asdf' })).toEqual([]);
    }
  });

  it("a stamp cannot be spent twice: another connection's stamp, a stale or a too-weak one are refused", () => {
    const h = gated();
    const first = h.connect();
    const stamp = solve(challengeOf(first), h.now);
    expect(first.send({ type: 'submit-permissions', method: 'hashcash', stamp })).toEqual([]);
    const second = h.connect();
    const challenge = challengeOf(second);
    expect(errors(second.send({ type: 'submit-permissions', method: 'hashcash', stamp }))).toEqual(['permission refused: the stamp is for another resource']);
    const stale = solve(challenge, h.now - 5 * 86_400_000);
    expect(errors(second.send({ type: 'submit-permissions', method: 'hashcash', stamp: stale }))).toEqual(['permission refused: the stamp is not dated today']);
    const weak = solve({ ...challenge, bits: 4 }, h.now);
    expect(errors(second.send({ type: 'submit-permissions', method: 'hashcash', stamp: weak }))).toEqual(['permission refused: the stamp claims fewer than 10 bits']);
    expect(errors(second.send({ type: 'bind', appid: APPID, side: 'bbbb' }))).toEqual([ERR_PERMISSION_REQUIRED]);
  });
});
