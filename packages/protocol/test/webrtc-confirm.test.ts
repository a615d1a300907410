// The webrtc-v1 PAKE confirmation: canonical DTLS fingerprints and the
// role-bound HMAC over both of them.
import { describe, expect, it } from 'vitest';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../src/bytes.js';
import { CONFIRM_PURPOSE, checkConfirm, confirmMac, sdpFingerprints } from '../src/webrtc/index.js';

const FP_A = 'a=fingerprint:sha-256 ab:cd:EF:01';
const FP_B = 'a=fingerprint:SHA-256 11:22:33:44';

describe('PAKE confirmation', () => {
  it('canonicalises fingerprints (algorithm lower, hex upper, sorted)', () => {
    expect(sdpFingerprints(`v=0\r\n${FP_B}\r\n${FP_A}\r\n`, 'local')).toBe('sha-256 11:22:33:44,sha-256 AB:CD:EF:01');
    expect(sdpFingerprints(`v=0\n${FP_A}\n${FP_A}\n`, 'local')).toBe('sha-256 AB:CD:EF:01');
    expect(() => sdpFingerprints('v=0\r\n', 'remote')).toThrow(expect.objectContaining({ code: 'RemoteProtocol', blame: 'peer' }));
    expect(() => sdpFingerprints('v=0\r\n', 'local')).toThrow(expect.objectContaining({ code: 'RemoteProtocol', blame: 'local' }));
  });

  it('is HMAC-SHA256 over purpose, role and both fingerprint sets', () => {
    const key = new Uint8Array(32).fill(9);
    const expected = hmac(sha256, key, utf8('burrow/webrtc-v1/confirm\nfollower\nsha-256 AA\nsha-256 BB'));
    expect(CONFIRM_PURPOSE).toBe('burrow/webrtc-v1/confirm');
    expect(toHex(confirmMac(key, 'follower', 'sha-256 AA', 'sha-256 BB'))).toBe(toHex(expected));
  });

  it('binds the role and both fingerprints; a reflected or altered MAC does not verify', () => {
    const key = new Uint8Array(32).fill(1);
    const l = 'sha-256 AA';
    const f = 'sha-256 BB';
    const leader = confirmMac(key, 'leader', l, f);
    expect(toHex(leader)).toMatch(/^[0-9a-f]{64}$/);
    expect(checkConfirm(confirmMac(key, 'leader', l, f), leader)).toBe(true);
    expect(checkConfirm(confirmMac(key, 'follower', l, f), leader)).toBe(false); // reflection
    expect(checkConfirm(confirmMac(key, 'leader', l, 'sha-256 CC'), leader)).toBe(false); // other certificate
    expect(checkConfirm(confirmMac(new Uint8Array(32), 'leader', l, f), leader)).toBe(false); // other key
    expect(checkConfirm(leader, leader.subarray(0, 16))).toBe(false); // truncated
  });
});
