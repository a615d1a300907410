import { describe, expect, it } from 'vitest';
import {
  checkIdentity,
  cleanName,
  encodePairingRecord,
  newIdentityRecord,
  newPairingRecord,
  pairingInfo,
  parseIdentityRecord,
  parsePairingRecord,
  revokedPairingRecord,
  revocationNoticeKey,
} from '../src/agent/index.js';
import { toHex } from '../src/bytes.js';

const ID = 'a'.repeat(32);
const SECRET = new Uint8Array(32).fill(0x11);

describe('pairing records', () => {
  it('are made checked, stored without absent fields, read back, and shown without the secret', () => {
    const record = newPairingRecord({ id: ID, name: ' Work  laptop ', peerRole: 'agent', endpoint: 'ws://127.0.0.1:4100/v1' }, SECRET, 1000);
    const stored = encodePairingRecord(record);
    expect(JSON.stringify(stored)).toBe(`{"id":"${ID}","name":"Work laptop","peerRole":"agent","createdAt":1000,"endpoint":"ws://127.0.0.1:4100/v1","secret":"${'11'.repeat(32)}"}`);
    expect(parsePairingRecord(stored)).toEqual(record);
    expect(pairingInfo(record)).toEqual({ id: ID, name: 'Work laptop', peerRole: 'agent', createdAt: 1000, endpoint: 'ws://127.0.0.1:4100/v1' });
    expect(encodePairingRecord({ ...pairingInfo(record), lastSeenAt: undefined } as never)).not.toHaveProperty('lastSeenAt');
  });

  it('check their arguments with errors that name them', () => {
    expect(() => newPairingRecord({ id: 'x', name: 'n', peerRole: 'agent' }, SECRET, 0)).toThrow(TypeError);
    expect(() => newPairingRecord({ id: ID, name: 'n', peerRole: 'peer' as never }, SECRET, 0)).toThrow(/peerRole/);
    expect(() => newPairingRecord({ id: ID, name: 'n', peerRole: 'agent' }, new Uint8Array(16), 0)).toThrow(RangeError);
    expect(() => newPairingRecord({ id: ID, name: ' ', peerRole: 'agent' }, SECRET, 0)).toThrow(/name must be 1 to 100/);
    expect(() => checkIdentity(ID.toUpperCase())).toThrow(TypeError);
    expect(() => cleanName(3)).toThrow(TypeError);
    expect(cleanName(' a \n b ')).toBe('a b');
  });

  it('read anything else as missing, drop unknown keys and badly typed optional fields', () => {
    for (const bad of [undefined, null, 3, 'x', [], { id: ID }, { id: 'x', name: 'n', peerRole: 'agent', createdAt: 1 }, { id: ID, name: 'n', peerRole: 'peer', createdAt: 1 }, { id: ID, name: 'n', peerRole: 'agent', createdAt: '1' }]) {
      expect(parsePairingRecord(bad)).toBeUndefined();
    }
    const odd = { id: ID, name: 'n', peerRole: 'client', createdAt: 1, lastSeenAt: 'x', revokedAt: null, origin: 5, endpoint: [], secret: 'zz', later: true };
    expect(parsePairingRecord(odd)).toEqual({ id: ID, name: 'n', peerRole: 'client', createdAt: 1 });
  });

  it('revoke: the secret goes, the first revocation time stays; a client record keeps the notice key', () => {
    const record = newPairingRecord({ id: ID, name: 'n', peerRole: 'client' }, SECRET, 1);
    const revoked = revokedPairingRecord(record, 5);
    const notice = toHex(revocationNoticeKey(SECRET));
    expect(notice).not.toBe(toHex(SECRET));
    expect(revoked).toEqual({ id: ID, name: 'n', peerRole: 'client', createdAt: 1, revokedAt: 5, notice });
    expect(revokedPairingRecord(revoked, 9)).toEqual({ ...revoked, revokedAt: 5 });
    expect(pairingInfo(revoked)).toEqual({ id: ID, name: 'n', peerRole: 'client', createdAt: 1, revokedAt: 5 });
    expect(parsePairingRecord(encodePairingRecord(revoked))).toEqual(revoked);
    // An agent's record (kept by a client) keeps nothing.
    expect(revokedPairingRecord(newPairingRecord({ id: ID, name: 'n', peerRole: 'agent' }, SECRET, 1), 5)).toEqual({ id: ID, name: 'n', peerRole: 'agent', createdAt: 1, revokedAt: 5 });
  });
});

describe('identity records', () => {
  it('come from the random source given, and read back', () => {
    const record = newIdentityRecord((n) => new Uint8Array(n).fill(0xab));
    expect(record).toEqual({ id: 'ab'.repeat(16) });
    expect(parseIdentityRecord(record)).toBe('ab'.repeat(16));
    expect(parseIdentityRecord({ id: 'AB'.repeat(16) })).toBeUndefined();
    expect(parseIdentityRecord(['x'])).toBeUndefined();
    expect(() => newIdentityRecord(() => new Uint8Array(4))).toThrow(RangeError);
  });
});
