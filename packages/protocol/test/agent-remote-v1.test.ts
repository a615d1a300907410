// remote-v1 rendezvous derivation: deterministic, bound to the secret, both
// identities and the window; valid wormhole codes; windows that tolerate skew.
import { describe, expect, it } from 'vitest';
import { parseCode } from '../src/codes.js';
import { REMOTE_CANDIDATES, encodeRevocationNotice, listenWindows, nextListenChange, noticeRendezvous, parseRevocationNotice, rendezvous, rendezvousWindow, revocationNoticeKey, DEFAULT_WINDOW_MS } from '../src/agent/index.js';
import { utf8 } from '../src/bytes.js';

const secret = new Uint8Array(32).map((_, i) => i);
const agentId = 'a'.repeat(32);
const clientId = 'c'.repeat(32);
const HOUR = 3_600_000;
const MIN = 60_000;

describe('rendezvous', () => {
  it('is a valid wormhole code with a 15-digit nameplate and 64 hex characters of password', () => {
    const r = rendezvous(secret, { agentId, clientId, window: 7 });
    expect(r.nameplate).toMatch(/^[1-9][0-9]{14}$/);
    const parsed = parseCode(r.code);
    expect(parsed.nameplate).toBe(r.nameplate);
    expect(parsed.words).toHaveLength(1);
    expect(parsed.words[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(r.window).toBe(7);
  });

  it('is the same on both sides (deterministic) and pinned by a vector', () => {
    const a = rendezvous(secret, { agentId, clientId, window: 489_000 });
    const b = rendezvous(secret.slice(), { agentId, clientId, window: 489_000 });
    expect(a).toEqual(b);
    // Vector: change it only with a protocol version bump (old clients would no longer meet new agents).
    expect(a.code).toMatchInlineSnapshot(`"787354019519977-c525408a3945b3b740f8e5bdfb83d7da1de3666f57f1b8818acbc9fbb6a0baa3"`);
  });

  it('changes with the window, the secret and either identity; nothing is shared between nameplate and password', () => {
    const base = rendezvous(secret, { agentId, clientId, window: 1 });
    const variants = [
      rendezvous(secret, { agentId, clientId, window: 2 }),
      rendezvous(secret.map((b, i) => (i === 0 ? b ^ 1 : b)), { agentId, clientId, window: 1 }),
      rendezvous(secret, { agentId: 'b'.repeat(32), clientId, window: 1 }),
      rendezvous(secret, { agentId, clientId: 'd'.repeat(32), window: 1 }),
      rendezvous(secret, { agentId: clientId, clientId: agentId, window: 1 }),
    ];
    for (const v of variants) {
      expect(v.nameplate).not.toBe(base.nameplate);
      expect(v.code.split('-')[1]).not.toBe(base.code.split('-')[1]);
    }
    expect(base.code.split('-')[1]).not.toContain(base.nameplate);
  });

  it('nameplates across many windows look unrelated (all distinct)', () => {
    const seen = new Set<string>();
    for (let window = 0; window < 2000; window++) seen.add(rendezvous(secret, { agentId, clientId, window }).nameplate);
    expect(seen.size).toBe(2000);
  });

  it('checks its arguments first, naming them', () => {
    expect(() => rendezvous('x' as unknown as Uint8Array, { agentId, clientId, window: 1 })).toThrow(TypeError);
    expect(() => rendezvous(new Uint8Array(16), { agentId, clientId, window: 1 })).toThrow(/secret must be 32 bytes/);
    expect(() => rendezvous(secret, { agentId: 'A'.repeat(32), clientId, window: 1 })).toThrow(/agentId/);
    expect(() => rendezvous(secret, { agentId, clientId: 'nope', window: 1 })).toThrow(/clientId/);
    expect(() => rendezvous(secret, { agentId, clientId, window: -1 })).toThrow(RangeError);
    expect(() => rendezvous(secret, { agentId, clientId, window: 1.5 })).toThrow(/window/);
  });
});

describe('windows', () => {
  it('the client uses floor(now / windowMs)', () => {
    expect(rendezvousWindow(0)).toBe(0);
    expect(rendezvousWindow(DEFAULT_WINDOW_MS - 1)).toBe(0);
    expect(rendezvousWindow(DEFAULT_WINDOW_MS)).toBe(1);
    expect(rendezvousWindow(10 * MIN + 5, { windowMs: 10 * MIN })).toBe(1);
  });

  it('the agent listens on its window, and on the neighbour within skew of a boundary', () => {
    const opts = { windowMs: HOUR, skewMs: 5 * MIN };
    expect(listenWindows(10 * HOUR + 30 * MIN, opts)).toEqual([10]);
    expect(listenWindows(10 * HOUR + 2 * MIN, opts)).toEqual([9, 10]);
    expect(listenWindows(11 * HOUR - 2 * MIN, opts)).toEqual([10, 11]);
    expect(listenWindows(0, opts)).toEqual([0]);
  });

  it('a client whose clock is off by less than skewMs always finds the agent listening', () => {
    const opts = { windowMs: HOUR, skewMs: 5 * MIN };
    for (let t = 10 * HOUR - 10 * MIN; t < 10 * HOUR + 10 * MIN; t += 17_000) {
      for (const skew of [-5 * MIN + 1, -MIN, 0, MIN, 5 * MIN - 1]) {
        expect(listenWindows(t, opts)).toContain(rendezvousWindow(t + skew, opts));
      }
    }
  });

  it('nextListenChange is the next instant the listened windows change, never now or the past', () => {
    const opts = { windowMs: HOUR, skewMs: 5 * MIN };
    let t = 10 * HOUR + 30 * MIN;
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = nextListenChange(t, opts);
      expect(next).toBeGreaterThan(t);
      // Nothing changes strictly before `next`; something changes at `next`.
      expect(listenWindows(next - 1, opts)).toEqual(listenWindows(t, opts));
      expect(listenWindows(next, opts)).not.toEqual(listenWindows(t, opts));
      seen.push(next - 10 * HOUR);
      t = next;
    }
    expect(seen).toEqual([55 * MIN, 65 * MIN, 115 * MIN, 125 * MIN, 175 * MIN, 185 * MIN]);
    expect(nextListenChange(30 * MIN, { windowMs: HOUR, skewMs: 0 })).toBe(HOUR);
  });

  it('refuses windows and skews that make no sense', () => {
    expect(() => listenWindows(0, { windowMs: 10 })).toThrow(/windowMs/);
    expect(() => listenWindows(0, { windowMs: 60_000, skewMs: 60_000 })).toThrow(/skewMs/);
    expect(() => rendezvousWindow(-1)).toThrow(/now/);
  });
});

describe('remote-v1 candidates and the revocation notice', () => {
  it('candidate 0 is the original rendezvous; every candidate and the notice rendezvous are unrelated nameplates', () => {
    const p = { agentId, clientId, window: 7 };
    expect(rendezvous(secret, { ...p, candidate: 0 })).toEqual(rendezvous(secret, p));
    const all = [...Array(REMOTE_CANDIDATES).keys()].map((candidate) => rendezvous(secret, { ...p, candidate }));
    const notice = noticeRendezvous(revocationNoticeKey(secret), p);
    const nameplates = new Set([...all, notice].map((r) => r.nameplate));
    expect(nameplates.size).toBe(REMOTE_CANDIDATES + 1);
    for (const r of [...all, notice]) expect(parseCode(r.code).nameplate).toBe(r.nameplate);
    expect(() => rendezvous(secret, { ...p, candidate: REMOTE_CANDIDATES })).toThrow(RangeError);
  });

  it('the notice message round-trips; anything else is no notice', () => {
    expect(parseRevocationNotice(encodeRevocationNotice(123))).toEqual({ revokedAt: 123 });
    expect(parseRevocationNotice(utf8('{"remote-v1":{}}'))).toBeUndefined();
    expect(() => parseRevocationNotice(utf8('nope'))).toThrow(/remote-v1/);
  });
});
