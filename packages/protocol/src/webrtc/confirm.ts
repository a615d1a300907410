/**
 * Binding the DTLS connection to the PAKE (webrtc-v1). Each side takes the
 * certificate fingerprints from the two SDPs it applied (its own, and the
 * one that came through the encrypted wormhole), and sends over the open
 * control channel (control.ts) `{"confirm": HEX}` with
 *
 *   HMAC-SHA256(derive_key(key, "burrow/webrtc-v1/confirm"),
 *               "burrow/webrtc-v1/confirm\n" + sender role + "\n" +
 *               leader fingerprints + "\n" + follower fingerprints)
 *
 * Fingerprints are written `algorithm HEX` (algorithm lower case, hex upper
 * case with colons as in SDP), several joined by `,` in sorted order. The
 * role makes the two MACs differ, so a reflected MAC does not verify.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, utf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';
import type { ConnectRole } from './abilities.js';

/** The HKDF purpose of the confirmation key: `derive_key(key, CONFIRM_PURPOSE)`. */
export const CONFIRM_PURPOSE = 'burrow/webrtc-v1/confirm';

/**
 * The `a=fingerprint` lines of an SDP, canonical. Throws `RemoteProtocol`
 * (blame: the side `whose` SDP it is) if there are none.
 *
 * @example
 * sdpFingerprints('a=fingerprint:SHA-256 ab:cd\r\n', 'remote') // → 'sha-256 AB:CD'
 */
export function sdpFingerprints(sdp: string, whose: 'local' | 'remote'): string {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/.exec(line);
    if (m) found.add(`${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`);
  }
  if (found.size === 0) {
    throw new WormholeError('RemoteProtocol', `the ${whose} session description has no DTLS fingerprint`, { blame: whose === 'local' ? 'local' : 'peer' });
  }
  return [...found].sort().join(',');
}

/** The MAC `role` sends, over the leader's and the follower's fingerprints. */
export function confirmMac(confirmKey: Uint8Array, role: ConnectRole, leader: string, follower: string): Uint8Array {
  return hmac(sha256, confirmKey, utf8(`${CONFIRM_PURPOSE}\n${role}\n${leader}\n${follower}`));
}

/** Constant-time-enough comparison of the received MAC with the expected one. */
export function checkConfirm(expected: Uint8Array, received: Uint8Array): boolean {
  return received.length === expected.length && equalBytes(expected, received);
}
