// webrtc-v1 / connect-v1 pieces that need no network: version extras, the
// strict signalling parser, the PAKE confirmation MAC and stream control text.
import { describe, expect, it } from 'vitest';
import { toHex } from '@burrow/protocol';
import { peerConnectInfo } from '../src/connection/connect.js';
import { advertiseConnect } from '../src/connection/advertise.js';
import { parseSignal } from '../src/connection/webrtc/connector.js';
import { confirmMac, sdpFingerprints, checkConfirm } from '../src/connection/webrtc/confirm.js';
import { channelWire, drained, parseChannelControl } from '../src/connection/webrtc/channel.js';
import { parseControlMessage } from '../src/connection/webrtc/connection.js';

const FP_A = 'a=fingerprint:sha-256 ab:cd:EF:01';
const FP_B = 'a=fingerprint:SHA-256 11:22:33:44';

describe('connect-v1 version extras', () => {
  it('advertises webrtc-v1 only with an RTCPeerConnection, keeps the caller extras, and our side', () => {
    const Fake = function () {} as unknown as new () => RTCPeerConnection;
    const withRtc = advertiseConnect({}, '0123456789', { RTCPeerConnection: Fake, versionExtras: { abilities: ['x'], other: 1 } });
    expect(withRtc).toEqual({ abilities: ['x', 'webrtc-v1', 'mux-v1'], other: 1, 'connect-v1': { side: '0123456789' } });
    expect(advertiseConnect({}, 'aa', { RTCPeerConnection: null })['abilities']).toEqual(['mux-v1']);
  });

  it('reads the peer info strictly and ignores non-Burrow peers', () => {
    expect(peerConnectInfo({ app_versions: {} })).toBeUndefined();
    expect(peerConnectInfo({ 'connect-v1': { side: 5 } })).toBeUndefined();
    expect(peerConnectInfo({ abilities: ['webrtc-v1', 7, 'mux-v1'], 'connect-v1': { side: 'ff' } })).toEqual({ side: 'ff', abilities: ['webrtc-v1', 'mux-v1'] });
  });
});

describe('webrtc-v1 signalling parser', () => {
  it('parses descriptions, candidates, end of candidates and done', () => {
    expect(parseSignal({ description: { type: 'offer', sdp: 'v=0' } })).toEqual({ type: 'description', description: { type: 'offer', sdp: 'v=0' } });
    expect(parseSignal({ candidate: null })).toEqual({ type: 'candidate', candidate: null });
    expect(parseSignal({ candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, extra: true } })).toEqual({
      type: 'candidate',
      candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(parseSignal({ done: 'fallback', reason: 'ICE failed' })).toEqual({ type: 'done', done: 'fallback', reason: 'ICE failed' });
    expect(parseSignal({ somethingNew: 1 })).toEqual({ type: 'unknown' });
  });

  it('rejects malformed bodies with RemoteProtocol', () => {
    for (const body of [{ description: { type: 'pranswer', sdp: '' } }, { description: { type: 'offer', sdp: 'x'.repeat(70_000) } }, { candidate: 5 }]) {
      expect(() => parseSignal(body)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
  });
});

describe('PAKE confirmation', () => {
  it('canonicalises fingerprints (algorithm lower, hex upper, sorted)', () => {
    expect(sdpFingerprints(`v=0\r\n${FP_B}\r\n${FP_A}\r\n`, 'local')).toBe('sha-256 11:22:33:44,sha-256 AB:CD:EF:01');
    expect(() => sdpFingerprints('v=0\r\n', 'remote')).toThrow(expect.objectContaining({ code: 'RemoteProtocol', blame: 'peer' }));
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
  });
});

describe('data channel control text', () => {
  it('parses stream and control messages, ignoring the unknown', () => {
    expect(parseChannelControl('{"credit":65536}')).toEqual({ type: 'credit', increment: 65536 });
    expect(parseChannelControl('{"fin":true}')).toEqual({ type: 'fin' });
    expect(parseChannelControl('{"reset":"no"}')).toEqual({ type: 'reset', reason: 'no' });
    expect(parseChannelControl('{"stop":"enough"}')).toEqual({ type: 'stop', reason: 'enough' });
    expect(parseChannelControl('{"credit":-1}')).toBeUndefined();
    expect(parseChannelControl('not json')).toBeUndefined();
    expect(parseControlMessage(JSON.stringify({ confirm: 'ab'.repeat(32) }))).toEqual({ type: 'confirm', mac: 'ab'.repeat(32) });
    expect(parseControlMessage(JSON.stringify({ confirm: 'zz' }))).toBeUndefined();
    expect(parseControlMessage(JSON.stringify({ bye: 'done' }))).toEqual({ type: 'bye', reason: 'done' });
  });
});

describe('bufferedAmount backpressure', () => {
  /** A channel that never fires `bufferedamountlow` (like @roamhq/wrtc): only polling can see it drain. */
  const silentChannel = () => {
    const sent: (string | Uint8Array)[] = [];
    const ch = {
      label: 'burrow/stream',
      readyState: 'open',
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      send(data: string | Uint8Array) {
        sent.push(data);
        if (typeof data !== 'string') ch.bufferedAmount += data.length;
      },
      close() {},
      addEventListener() {},
      removeEventListener() {},
    };
    return { ch, sent };
  };

  it('pauses above the high watermark and resumes by polling when no event fires', async () => {
    const { ch } = silentChannel();
    const wire = channelWire(ch as unknown as RTCDataChannel, { high: 1024 * 1024, low: 256 * 1024, pollMs: 5 }, 262144);
    expect(wire.maxChunk).toBe(64 * 1024);
    expect(ch.bufferedAmountLowThreshold).toBe(256 * 1024);
    for (let i = 0; i < 17; i++) wire.sendData(new Uint8Array(64 * 1024));
    const ready = wire.ready();
    expect(ready).toBeInstanceOf(Promise);
    let resolved = false;
    void ready!.then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    ch.bufferedAmount = 200 * 1024; // drained below the low watermark, silently
    await ready;
    expect(wire.ready()).toBeUndefined();
  });

  it('rejects the wait when the channel closes', async () => {
    const { ch } = silentChannel();
    ch.bufferedAmount = 2 * 1024 * 1024;
    const wait = drained(ch as unknown as RTCDataChannel, { high: 1024 * 1024, low: 256 * 1024, pollMs: 5 });
    ch.readyState = 'closed';
    await expect(wait).rejects.toMatchObject({ code: 'Closed' });
  });
});
