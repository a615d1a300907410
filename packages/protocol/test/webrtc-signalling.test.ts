// connect-v1 abilities and webrtc-v1 signalling bodies: strict parsing
// (malformed known keys are RemoteProtocol, unknown bodies are ignored) and
// the exact bytes we send.
import { describe, expect, it } from 'vitest';
import {
  connectRole,
  connectVersionExtras,
  encodeCandidate,
  encodeDescription,
  encodeDone,
  isRelayCandidate,
  outgoingCandidate,
  parsePeerConnectInfo,
  parseWebRtcSignal,
  sdpWithoutCandidates,
} from '../src/webrtc/index.js';

describe('connect-v1 abilities', () => {
  it('merges our abilities into the caller extras and names our side', () => {
    expect(connectVersionExtras({ abilities: ['x', 'mux-v1'], other: 1 }, ['webrtc-v1', 'mux-v1'], '0123456789')).toEqual({
      abilities: ['x', 'mux-v1', 'webrtc-v1'],
      other: 1,
      'connect-v1': { side: '0123456789' },
    });
  });

  it('reads the peer info strictly and ignores non-Burrow peers', () => {
    expect(parsePeerConnectInfo({ app_versions: {} })).toBeUndefined();
    expect(parsePeerConnectInfo({ 'connect-v1': { side: 5 } })).toBeUndefined();
    expect(parsePeerConnectInfo({ 'connect-v1': { side: '' } })).toBeUndefined();
    expect(parsePeerConnectInfo({ 'connect-v1': { side: 'a'.repeat(65) } })).toBeUndefined();
    expect(parsePeerConnectInfo({ abilities: ['webrtc-v1', 7, 'mux-v1'], 'connect-v1': { side: 'ff' } })).toEqual({ side: 'ff', abilities: ['webrtc-v1', 'mux-v1'] });
    expect(parsePeerConnectInfo({ abilities: Array.from({ length: 40 }, (_, i) => `a${i}`), 'connect-v1': { side: 'ff' } })?.abilities).toHaveLength(32);
  });

  it('the smaller side leads', () => {
    expect(connectRole('0a', '0b')).toBe('leader');
    expect(connectRole('0b', '0a')).toBe('follower');
  });
});

describe('webrtc-v1 signalling parser', () => {
  it('parses descriptions, candidates, end of candidates and done', () => {
    expect(parseWebRtcSignal({ description: { type: 'offer', sdp: 'v=0' } })).toEqual({ type: 'description', description: { type: 'offer', sdp: 'v=0' } });
    expect(parseWebRtcSignal({ candidate: null })).toEqual({ type: 'candidate', candidate: null });
    expect(parseWebRtcSignal({ candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, extra: true } })).toEqual({
      type: 'candidate',
      candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(parseWebRtcSignal({ done: 'fallback', reason: 'ICE failed' })).toEqual({ type: 'done', done: 'fallback', reason: 'ICE failed' });
    expect(parseWebRtcSignal({ done: 'webrtc' })).toEqual({ type: 'done', done: 'webrtc', reason: '' });
    expect(parseWebRtcSignal({ somethingNew: 1 })).toEqual({ type: 'unknown' });
    expect(parseWebRtcSignal({ done: 'maybe' })).toEqual({ type: 'unknown' });
  });

  it('bounds what it keeps from the peer', () => {
    const c = parseWebRtcSignal({ candidate: { candidate: 'c'.repeat(5000) } });
    expect(c.type === 'candidate' && c.candidate?.candidate.length).toBe(1024);
    const d = parseWebRtcSignal({ done: 'failed', reason: 'r'.repeat(5000) });
    expect(d.type === 'done' && d.reason.length).toBe(500);
  });

  it('rejects malformed bodies with RemoteProtocol', () => {
    for (const body of [{ description: { type: 'pranswer', sdp: '' } }, { description: { type: 'offer', sdp: 'x'.repeat(70_000) } }, { candidate: 5 }, { candidate: {} }]) {
      expect(() => parseWebRtcSignal(body)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
  });
});

describe('webrtc-v1 signalling encoders', () => {
  it('sends a description without its candidate lines', () => {
    const sdp = 'v=0\r\na=fingerprint:sha-256 AA\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n';
    expect(JSON.stringify(encodeDescription({ type: 'offer', sdp }))).toBe('{"description":{"type":"offer","sdp":"v=0\\r\\na=fingerprint:sha-256 AA\\r\\n"}}');
    expect(sdpWithoutCandidates('v=0')).toBe('v=0');
  });

  it('sends candidates bare, with the fields the stack gave', () => {
    expect(JSON.stringify(encodeCandidate(outgoingCandidate({ candidate: 'a=candidate:1 1 udp 1 ::1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' })))).toBe(
      '{"candidate":{"candidate":"candidate:1 1 udp 1 ::1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"u"}}',
    );
    expect(JSON.stringify(encodeCandidate(outgoingCandidate({ candidate: 'candidate:2', sdpMid: null, sdpMLineIndex: null, usernameFragment: null })))).toBe(
      '{"candidate":{"candidate":"candidate:2","sdpMid":null,"sdpMLineIndex":null}}',
    );
    expect(JSON.stringify(encodeCandidate(null))).toBe('{"candidate":null}');
  });

  it('ends with done, and a reason only when there is one', () => {
    expect(JSON.stringify(encodeDone('webrtc'))).toBe('{"done":"webrtc"}');
    expect(JSON.stringify(encodeDone('fallback', 'ICE failed'))).toBe('{"done":"fallback","reason":"ICE failed"}');
  });

  it('recognises TURN relay candidates', () => {
    expect(isRelayCandidate('candidate:1 1 udp 1 10.0.0.1 3478 typ relay raddr 0.0.0.0 rport 0')).toBe(true);
    expect(isRelayCandidate('candidate:1 1 udp 1 10.0.0.1 3478 typ relay')).toBe(true);
    expect(isRelayCandidate('candidate:1 1 udp 1 10.0.0.1 3478 typ host')).toBe(false);
    expect(isRelayCandidate('candidate:1 1 udp 1 10.0.0.1 3478 typ relayish')).toBe(false);
  });
});
